"""GsmModem and ModemPool against the emulator on real ptys."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hardware.gsm.driver import (
    DeliveryReport, GsmModem, ModemGone, ModemPool, NewMessage, StoredMessage,
)
from hardware.gsm.emulator import GsmEmulator
from hardware.gsm.errors import ModemError, ModemUnavailable, PduError
from hardware.gsm.pdu import DeliverPdu, decode_pdu
from hardware.gsm.reassembly import Reassembler
from hardware.serial import PtyEndpoint


class Rig:
    """An emulator on a pty and the driver on its slave side."""

    def __init__(self, emu: GsmEmulator, endpoint: PtyEndpoint, modem: GsmModem) -> None:
        self.emu, self.endpoint, self.modem = emu, endpoint, modem


@pytest.fixture
async def rigs() -> AsyncIterator:
    made: list[Rig] = []

    async def make(pin: str | None = "1234", init: bool = True, name: str | None = None) -> Rig:
        emu = GsmEmulator(pin=pin)
        endpoint = PtyEndpoint(emu)
        path = await endpoint.start()
        modem = await GsmModem.open(f"pty://{path}", pin=pin, name=name or path, command_timeout=3)
        if init:
            await modem.init()
        rig = Rig(emu, endpoint, modem)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await rig.modem.close()
        await rig.endpoint.close()


async def next_event(modem: GsmModem, kind: type, timeout: float = 3.0):
    while True:
        event = await asyncio.wait_for(modem.events.get(), timeout)
        if isinstance(event, kind):
            return event


async def test_init_and_status(rigs) -> None:
    rig = await rigs()
    assert rig.emu.pin_state == "READY" and not rig.emu.echo and rig.emu.cmgf == 0
    assert rig.emu.cnmi[:2] == [2, 1] and rig.emu.cnmi[3] == 1
    info = await rig.modem.identify()
    assert (info.manufacturer, info.model, info.imei, info.imsi) == (
        rig.emu.manufacturer, rig.emu.model, rig.emu.imei, rig.emu.imsi)
    rig.emu.set_signal(15)
    sig = await rig.modem.signal()
    assert sig.rssi == 15 and sig.dbm == -83 and sig.ber is None
    assert (await rig.modem.registration()).registered
    assert await rig.modem.operator() == rig.emu.operator
    rig.emu.lose_network()
    assert not (await rig.modem.registration()).registered
    assert (await rig.modem.signal()).rssi is None


async def test_missing_or_wrong_pin_is_a_clear_error(rigs) -> None:
    rig = await rigs(init=False)
    rig.modem.pin = None
    with pytest.raises(ModemError, match="PIN"):
        await rig.modem.init()
    rig.modem.pin = "9999"
    with pytest.raises(ModemError, match="16"):
        await rig.modem.init()


async def test_drain_deletes_only_what_the_caller_spooled(rigs) -> None:
    rig = await rigs()
    rig.emu.inject_sms(text="first", sender="+46701111111")
    rig.emu.inject_sms(text="second " * 30, sender="+46702222222", reference=9)  # two parts
    spooled: list[StoredMessage] = []

    async def flaky_spool(message: StoredMessage) -> None:
        if len(spooled) == 1:
            raise OSError("disk full")
        spooled.append(message)

    with pytest.raises(OSError):
        await rig.modem.drain_inbox(flaky_spool)
    assert sorted(rig.emu.stores["SM"]) == [2, 3]  # only the spooled one is gone

    async def spool(message: StoredMessage) -> None:
        spooled.append(message)

    assert await rig.modem.drain_inbox(spool) == 2
    assert rig.emu.stores["SM"] == {}
    reassembler = Reassembler()
    whole = [m for m in (reassembler.add(s.pdu, 0) for s in spooled if isinstance(s.pdu, DeliverPdu)) if m]
    assert [m.text for m in whole] == ["first", "second " * 30]
    assert len({s.digest for s in spooled}) == 3


async def test_undecodable_pdu_is_handed_over_raw(rigs) -> None:
    rig = await rigs()
    rig.emu.inject_sms(bytes.fromhex("0004"))  # truncated garbage stored on the SIM
    got: list[StoredMessage] = []

    async def spool(message: StoredMessage) -> None:
        got.append(message)

    await rig.modem.drain_inbox(spool)
    assert got[0].pdu is None and "address" in got[0].error and got[0].raw == b"\x00\x04"


async def test_new_message_event(rigs) -> None:
    rig = await rigs()
    [index] = rig.emu.inject_sms(text="ping")
    event = await next_event(rig.modem, NewMessage)
    assert event == NewMessage("SM", index)
    stored = await rig.modem.read_message(index)
    assert stored.pdu.text == "ping"


async def test_send_multipart_with_reports_mapped_to_the_tag(rigs) -> None:
    rig = await rigs()
    result = await rig.modem.send("+46708251358", "Ж" * 100, status_report=True, tag="outbox-17")
    assert len(result.references) == 2 and result.concat_reference is not None
    sent = rig.emu.sent[-2:]
    assert [s.reference for s in sent] == list(result.references)
    assert "".join(s.pdu.text for s in sent) == "Ж" * 100
    assert all(s.pdu.status_report_request and s.pdu.concat.reference == result.concat_reference for s in sent)
    rig.emu.deliver_report(result.references[1], status=0)
    rig.emu.deliver_report(result.references[0], status=0x41)
    second = await next_event(rig.modem, DeliveryReport)
    first = await next_event(rig.modem, DeliveryReport)
    assert (second.tag, second.part, second.delivered) == ("outbox-17", 2, True)
    assert (first.tag, first.part, first.delivered, first.final) == ("outbox-17", 1, False, True)
    assert second.recipient == "+46708251358"


async def test_stored_status_reports_are_fetched(rigs) -> None:
    rig = await rigs()
    await rig.modem.channel.command("AT+CNMI=2,1,0,2,0")
    result = await rig.modem.send("+46708251358", "x", status_report=True, tag="t1")
    rig.emu.deliver_report(result.references[0])
    report = await next_event(rig.modem, DeliveryReport)
    assert report.tag == "t1" and report.delivered
    for _ in range(100):
        if not rig.emu.stores["SM"]:
            break
        await asyncio.sleep(0.01)
    assert rig.emu.stores["SM"] == {}


async def test_send_errors(rigs) -> None:
    rig = await rigs()
    rig.emu.lose_network()
    with pytest.raises(ModemError, match="331"):
        await rig.modem.send("+461", "x")
    with pytest.raises(PduError):
        await rig.modem.send("not a number at all!!", "x")


async def test_unplug_gives_modem_gone_and_unavailable(rigs) -> None:
    rig = await rigs()
    await rig.endpoint.unplug()
    assert isinstance(await next_event(rig.modem, ModemGone), ModemGone)
    assert not rig.modem.alive
    with pytest.raises(ModemUnavailable):
        await rig.modem.signal()


async def test_pool_round_robin_and_failover(rigs) -> None:
    a, b = await rigs(name="a"), await rigs(name="b")
    now = [0.0]
    pool = ModemPool([a.modem, b.modem], retry_after=30, clock=lambda: now[0])
    used = [(await pool.send("+461", f"m{i}"))[0].name for i in range(4)]
    assert used == ["a", "b", "a", "b"]
    a.emu.fail_next_send(500)
    modem, _ = await pool.send("+461", "failover")
    assert modem.name == "b" and b.emu.sent[-1].pdu.text == "failover"
    assert [m.name for m in pool.available()] == ["b"]  # a rests after its error
    now[0] += 31
    assert [m.name for m in pool.available()] == ["a", "b"]
    await b.endpoint.unplug()
    await next_event(b.modem, ModemGone)
    for _ in range(3):
        modem, _ = await pool.send("+461", "only a")
        assert modem.name == "a"
    await a.endpoint.unplug()
    await next_event(a.modem, ModemGone)
    with pytest.raises(ModemUnavailable, match="no modem"):
        await pool.send("+461", "nobody")


async def test_pool_does_not_fail_over_on_bad_text(rigs) -> None:
    a = await rigs(name="a")
    pool = ModemPool([a.modem])
    with pytest.raises(PduError):
        await pool.send("+" + "1" * 25, "x")  # 25 digits: over the 20 TP-DA allows
    assert pool.available() == [a.modem]


def test_delivery_payload_decodes_like_the_codec() -> None:
    emu = GsmEmulator()
    emu.inject_sms(text="check")
    raw = emu.stores["SM"][1].pdu
    assert decode_pdu(raw).text == "check"


async def test_emulator_sends_requested_reports_by_itself(rigs) -> None:
    rig = await rigs()
    rig.emu.auto_reports = 0.01
    result = await rig.modem.send("+46708251358", "auto", status_report=True, tag="auto")
    report = await next_event(rig.modem, DeliveryReport)
    assert (report.reference, report.tag) == (result.references[0], "auto")


async def test_emulator_unplug_closes_its_pty(rigs) -> None:
    rig = await rigs()
    await rig.emu.unplug()
    assert isinstance(await next_event(rig.modem, ModemGone), ModemGone)
    assert not rig.endpoint.running
