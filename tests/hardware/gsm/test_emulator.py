"""The GSM modem emulator, driven through AtChannel as a driver would."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.gsm.emulator import GsmEmulator
from hardware.gsm.pdu import DeliverPdu, StatusReportPdu, cmgs_length, decode_hex, encode_pdu, split_text
from hardware.serial import AtChannel, Urc, register_emulator
from hardware.serial.lines import Final


@pytest.fixture
async def modem() -> AsyncIterator[tuple[GsmEmulator, AtChannel, list[Urc]]]:
    emu = GsmEmulator(pin="1234")
    unregister = register_emulator(f"gsm-test-{id(emu)}", emu)
    channel = await AtChannel.open(f"emu://gsm-test-{id(emu)}", default_timeout=2)
    urcs: list[Urc] = []
    channel.on_unsolicited(urcs.append)
    yield emu, channel, urcs
    await channel.close()
    unregister()


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0.01)


async def test_pin_gates_sim_commands(modem) -> None:
    emu, ch, _ = modem
    assert (await ch.command("AT+CMEE=1")).ok
    assert (await ch.command("AT+CPIN?")).first("+CPIN") == ["SIM PIN"]
    assert (await ch.command("AT+CIMI")).error_code == 11
    assert (await ch.command("AT+CMGL=4")).error_code == 311
    assert (await ch.command('AT+CPIN="0000"')).error_code == 16
    assert (await ch.command('AT+CPIN="1234"')).ok
    assert (await ch.command("AT+CIMI")).lines == (emu.imsi,)


async def test_echo_numeric_results_and_chained_commands(modem) -> None:
    emu, ch, _ = modem
    resp = await ch.command("ATE0V1;+CMEE=2;+CSQ")  # basic + extended in one line
    assert resp.lines == ("+CSQ: 20,99",)
    assert not emu.echo and emu.cmee == 2
    assert (await ch.command("AT+NOPE")).final == "+CME ERROR: 4"


async def test_inbox_list_read_delete(modem) -> None:
    emu, ch, urcs = modem
    await ch.command('AT+CPIN="1234"')
    await ch.command("AT+CNMI=2,1,0,1,0")
    [first] = emu.inject_sms(text="Hello", sender="+46708251358")
    second = emu.inject_sms(text="Ж" * 100, sender="+79161234567", reference=5)
    await _settle()
    assert [u.args for u in urcs if u.name == "+CMTI"] == [("SM", "1"), ("SM", "2"), ("SM", "3")]
    listing = await ch.command("AT+CMGL=4")
    heads = listing.info("+CMGL")
    assert [h[0] for h in heads] == ["1", "2", "3"] and all(h[1] == "0" for h in heads)
    pdus = [line for line in listing.lines if not line.startswith("+CMGL")]
    msgs = [decode_hex(p) for p in pdus]
    assert isinstance(msgs[0], DeliverPdu) and msgs[0].text == "Hello"
    assert int(heads[0][3]) == cmgs_length(bytes.fromhex(pdus[0]))
    assert msgs[1].concat.total == 2 and "".join(m.text for m in msgs[1:]) == "Ж" * 100
    assert (await ch.command("AT+CMGL=0")).lines == ()  # listing marked them read
    read = await ch.command(f"AT+CMGR={first}")
    assert read.first("+CMGR")[0] == "1"
    assert (await ch.command(f"AT+CMGD={first}")).ok
    assert (await ch.command(f"AT+CMGR={first}")).final == "ERROR"  # CMEE=0: plain ERROR
    await ch.command("AT+CMEE=1")
    assert (await ch.command(f"AT+CMGR={first}")).error_code == 321
    assert (await ch.command("AT+CMGD=0,4")).ok
    assert emu.stores["SM"] == {} and len(second) == 2


async def test_send_pdu_and_status_report(modem) -> None:
    emu, ch, urcs = modem
    await ch.command('AT+CPIN="1234"')
    await ch.command("AT+CMEE=1;+CMGF=0;+CNMI=2,1,0,1,0")
    raw = encode_pdu(split_text("Ping €", "+46701234567", status_report=True)[0])
    resp = await ch.command(f"AT+CMGS={cmgs_length(raw)}", body=raw.hex())
    [[mr]] = resp.info("+CMGS")
    assert emu.sent[-1].pdu.text == "Ping €" and emu.sent[-1].reference == int(mr)
    emu.deliver_report(int(mr), status=0)
    await _settle()
    [cds] = [u for u in urcs if u.name == "+CDS"]
    report = decode_hex(cds.body)
    assert isinstance(report, StatusReportPdu) and report.reference == int(mr) and report.delivered
    assert str(report.recipient) == "+46701234567"
    bad = await ch.command(f"AT+CMGS={cmgs_length(raw) + 1}", body=raw.hex())
    assert bad.error_code == 304
    garbage = await ch.command("AT+CMGS=5", body="zz")
    assert garbage.error_code == 304


async def test_status_reports_stored_with_cdsi(modem) -> None:
    emu, ch, urcs = modem
    await ch.command('AT+CPIN="1234"')
    await ch.command("AT+CNMI=2,1,0,2,0")
    raw = encode_pdu(split_text("x", "+461", status_report=True)[0])
    await ch.command(f"AT+CMGS={cmgs_length(raw)}", body=raw.hex())
    emu.deliver_report()
    await _settle()
    [cdsi] = [u for u in urcs if u.name == "+CDSI"]
    read = await ch.command(f"AT+CMGR={cdsi.args[1]}")
    assert isinstance(decode_hex(read.lines[1]), StatusReportPdu)


async def test_network_faults(modem) -> None:
    emu, ch, urcs = modem
    await ch.command('AT+CPIN="1234"')
    await ch.command("AT+CMEE=1;+CREG=1")
    raw = encode_pdu(split_text("x", "+461")[0])
    body = raw.hex()
    emu.lose_network()
    await _settle()
    assert [u.args for u in urcs if u.name == "+CREG"] == [("2",)]
    assert (await ch.command("AT+CSQ")).first("+CSQ") == ["99", "99"]
    assert (await ch.command(f"AT+CMGS={cmgs_length(raw)}", body=body)).error_code == 331
    emu.restore_network()
    emu.set_signal(7)
    assert (await ch.command("AT+CSQ")).first("+CSQ") == ["7", "99"]
    emu.fail_next_send(500)
    assert (await ch.command(f"AT+CMGS={cmgs_length(raw)}", body=body)).error_code == 500
    assert (await ch.command(f"AT+CMGS={cmgs_length(raw)}", body=body)).ok


async def test_sim_full_holds_deliveries_until_space(modem) -> None:
    emu, ch, urcs = modem
    await ch.command('AT+CPIN="1234"')
    await ch.command("AT+CMEE=1;+CNMI=2,1")
    emu.sim_full = True
    assert emu.inject_sms(text="later") == []
    raw = encode_pdu(split_text("draft", "+461")[0])
    assert (await ch.command(f"AT+CMGW={cmgs_length(raw)}", body=raw.hex())).error_code == 322
    emu.sim_full = False
    emu.inject_sms(text="now")
    await ch.command("AT+CMGD=1")  # a delete makes room: the network retries what it held
    await _settle()
    texts = [decode_hex(line).text for line in (await ch.command("AT+CMGL=4")).lines if not line.startswith("+")]
    assert texts == ["later"]


async def test_text_mode_read_and_send(modem) -> None:
    emu, ch, _ = modem
    await ch.command('AT+CPIN="1234"')
    await ch.command("AT+CMGF=1")
    emu.inject_sms(text="Plain text", sender="+46708251358")
    listing = await ch.command('AT+CMGL="ALL"')
    assert listing.lines[0].startswith('+CMGL: 1,"REC UNREAD","+46708251358"')
    assert listing.lines[1] == "Plain text"
    resp = await ch.command('AT+CMGS="+46701234567"', body="Text mode send")
    assert resp.ok and emu.sent[-1].pdu.text == "Text mode send"


async def test_prompt_cancel_with_escape(modem) -> None:
    emu, ch, _ = modem
    await ch.command('AT+CPIN="1234"')
    prompt = await ch.command("AT+CMGS=10", expect_prompt=True)
    assert prompt.result.kind == Final.PROMPT
    assert (await ch.cancel_prompt()).ok and emu.sent == []


async def test_unplug_closes_the_channel(modem) -> None:
    emu, ch, _ = modem
    assert (await ch.command("AT")).ok
    await emu.unplug()
    for _ in range(100):
        if ch.closed:
            break
        await asyncio.sleep(0.01)
    assert ch.closed


async def test_incoming_call_rings_with_clip(modem) -> None:
    emu, ch, urcs = modem
    await ch.command("AT+CLIP=1")
    emu.incoming_call("+46701112233")
    await _settle()
    assert [u.name for u in urcs] == ["RING", "+CLIP"] and urcs[1].args[0] == "+46701112233"


async def test_command_line_emulator_on_a_pty() -> None:
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hardware.gsm.emulator", "--pty", cwd=root,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        path = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        assert path.startswith("/dev/")
        ch = await AtChannel.open(f"pty://{path}", default_timeout=3)
        assert (await ch.command("ATE0")).ok
        proc.stdin.write(b"sms +46708251358 scripted hello\n")
        await proc.stdin.drain()
        assert b"stored at [1]" in await asyncio.wait_for(proc.stdout.readline(), 10)
        listing = await ch.command("AT+CMGL=4")
        assert decode_hex(listing.lines[1]).text == "scripted hello"
        proc.stdin.write(b"unplug\n")
        await proc.stdin.drain()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        await ch.close()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('AT+CMGSLRDPINQEV0123456789=?;",&^ZIX'), max_size=30))
def test_any_command_line_gets_an_answer_not_a_crash(line: str) -> None:
    emu = GsmEmulator()
    answer = emu.execute("AT" + line)
    assert answer.endswith((b"OK\r\n", b"ERROR\r\n", b"> ", b"\r")) or b"ERROR: " in answer
