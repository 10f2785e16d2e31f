"""Our Class 1 driver against the emulated modems and line: round trips, AT answers, faults."""
from __future__ import annotations

import asyncio

import pytest

from hardware.fax_modem.t30 import CallFailed, FaxModem, LineState, PageStatus, Timers
from hardware.serial import AtChannel
from tests.hardware.fax_modem.emulated import emulated_pair, stripes, unplug_during_second_page

TIMERS = Timers().scaled(0.3)
NOISE_SEED = 1  # with this seed the first try is spoilt and the second clean


line = emulated_pair("fax")


async def open_pair(cls: str = "1") -> tuple[FaxModem, FaxModem]:
    sender = await FaxModem("emu://fax-a", cls, local_id="SENDER", timers=TIMERS).open()
    receiver = await FaxModem("emu://fax-b", cls, local_id="RECEIVER", timers=TIMERS).open()
    return sender, receiver


async def test_modem_answers_like_a_fax_modem(line):
    channel = await AtChannel.open("emu://fax-a")
    try:
        assert (await channel.command("AT+FCLASS=?")).text == "0,1,2,2.0"
        assert (await channel.command("ATE0V1Q0")).ok
        assert (await channel.command("AT+FCLASS=1")).ok
        assert (await channel.command("AT+FTM=?")).text.startswith("24,48,72,73,74,96")
        assert (await channel.command("AT+FMFR?")).text == "Appliance"
        assert (await channel.command("ATI3")).text.startswith("Appliance")
        assert (await channel.command("AT+FTH=3")).final == "ERROR"  # no call up
        assert (await channel.command("AT+BOGUS")).final == "ERROR"
    finally:
        await channel.close()


async def test_send_and_receive_two_pages(line):
    sender, receiver = await open_pair()
    events = []
    sender.on_event(events.append)
    pages = [stripes(), stripes(90, seed=1)]
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await sender.send("200", pages)
        fax = await incoming
    finally:
        await sender.close()
        await receiver.close()
    assert report.ok and report.pages_confirmed == 2 and report.remote_id == "RECEIVER"
    assert fax.ok and fax.pages == pages and fax.remote_id == "SENDER"
    assert fax.per_page_status == [PageStatus.MCF, PageStatus.MCF]
    assert [e.state for e in events][:3] == [LineState.DIALING, LineState.CONNECTED, LineState.PAGE]
    assert events[-1].state is LineState.HUNG_UP


async def test_normal_resolution_receiver_gets_halved_rows(line):
    from hardware.fax_modem.t30 import Capabilities
    sender = await FaxModem("emu://fax-a", "1", timers=TIMERS).open()
    receiver = await FaxModem("emu://fax-b", "1", timers=TIMERS, caps=Capabilities(fine=False)).open()
    page = stripes(100)
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await sender.send("200", [page])
        fax = await incoming
    finally:
        await sender.close()
        await receiver.close()
    assert report.ok and report.mode is not None and not report.mode.fine
    got = fax.pages[0]
    assert (got.height, got.y_dpi) == (50, 98)
    assert [got.row(i) for i in range(50)] == [page.row(i) for i in range(0, 100, 2)]


async def test_unknown_classes_are_refused():
    from hardware.fax_modem.t30 import ModemError
    with pytest.raises(ModemError):
        FaxModem("emu://fax-a", "3")


@pytest.mark.parametrize("fault,reason", [("busy", "BUSY"), ("no_answer", "NO ANSWER")])
async def test_busy_and_no_answer(line, fault, reason):
    exchange, _, b = line
    setattr(b.port.faults, fault, True)
    exchange.max_rings = 2
    sender = await FaxModem("emu://fax-a", "1", timers=TIMERS).open()
    try:
        with pytest.raises(CallFailed) as info:
            await sender.send("200", [stripes()])
    finally:
        await sender.close()
    assert info.value.reason == reason


async def test_unknown_number_is_no_carrier(line):
    sender = await FaxModem("emu://fax-a", "1", timers=TIMERS).open()
    try:
        with pytest.raises(CallFailed) as info:
            await sender.send("999", [stripes()])
    finally:
        await sender.close()
    assert info.value.reason == "NO CARRIER"


async def test_line_noise_gives_rtn_then_retransmission(line):
    from hardware.fax_modem.t30 import CopyQuality
    exchange, a, _ = line
    a.port.faults.ber = 6e-6  # a few bit errors per page: some tries spoilt, training still passes
    a.port.faults.seed = NOISE_SEED
    sender = await FaxModem("emu://fax-a", "1", timers=TIMERS).open()
    strict = CopyQuality(mcf_bad_ratio=0.0, rtp_bad_ratio=0.0)  # any bad row earns RTN
    receiver = await FaxModem("emu://fax-b", "1", timers=TIMERS, quality=strict).open()
    pages = [stripes(400)]
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await sender.send("200", pages)
        fax = await incoming
    finally:
        await sender.close()
        await receiver.close()
    assert fax.per_page_status[0] is PageStatus.RTN and fax.per_page_status[-1] is PageStatus.MCF
    assert fax.received[0].decoded.bad_line_count > 0
    assert report.ok and report.pages[0].attempts == len(fax.per_page_status) >= 2
    assert fax.pages == pages


async def test_no_carrier_mid_page_keeps_good_pages(line):
    exchange, a, _ = line
    first = stripes(200)
    sender, receiver = await open_pair()
    pages = [first, stripes(300, seed=2)]
    from hardware.fax_modem.t30.pagedata import code_page
    from hardware.fax_modem.t30.caps import Capabilities, negotiate
    page_one = len(code_page(first, negotiate(Capabilities(), Capabilities())))
    a.port.faults.cut_after_octets = 2 * 2700 + page_one + 3000  # two TCFs, page 1, then part of page 2
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await sender.send("200", pages)
        fax = await incoming
    finally:
        await sender.close()
        await receiver.close()
    assert not report.ok
    assert report.pages[0].status is PageStatus.MCF
    assert not fax.ok and fax.pages == [first]


async def test_pty_closed_mid_session_is_a_clean_error(line):
    fax, report, pages = await unplug_during_second_page(line, "emu://fax-a", "1", "1")
    assert not fax.ok and "line lost" in fax.reason
    assert fax.pages == [pages[0]]
    assert not report.ok and report.pages[0].status is PageStatus.MCF
