"""Our Class 2 / 2.0 driver against the emulated modems (which run T.30 themselves) and across classes."""
from __future__ import annotations

import asyncio

import pytest

from hardware.fax_modem.t30 import FaxModem, LineState, PageStatus, Timers
from hardware.fax_modem.t4 import Page
from hardware.serial import AtChannel
from tests.hardware.fax_modem.emulated import emulated_pair, stripes

TIMERS = Timers().scaled(0.3)


line = emulated_pair("c2")


async def call(sender_cls: str, receiver_cls: str, pages: list[Page], **receiver_options):
    sender = await FaxModem("emu://c2-a", sender_cls, local_id="SENDER", timers=TIMERS).open()
    receiver = await FaxModem("emu://c2-b", receiver_cls, local_id="RECEIVER", timers=TIMERS,
                              **receiver_options).open()
    events: list = []
    sender.on_event(events.append)
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await asyncio.wait_for(sender.send("200", pages), 60)
        fax = await asyncio.wait_for(incoming, 60)
    finally:
        await sender.close()
        await receiver.close()
    return report, fax, events


# Class 2 <-> 2.0 both ways run in test_class2_faults; here each meets our Class 1 engine across the line.
@pytest.mark.parametrize(("sender_cls", "receiver_cls"), [("2.0", "1"), ("1", "2")])
async def test_two_pages_across_classes(line, sender_cls, receiver_cls):
    pages = [stripes(), stripes(90, seed=1)]
    report, fax, events = await call(sender_cls, receiver_cls, pages)
    assert report.ok, report.reason
    assert [p.status for p in report.pages] == [PageStatus.MCF, PageStatus.MCF]
    assert report.remote_id == "RECEIVER" and fax.remote_id == "SENDER"
    assert fax.ok and fax.pages == pages
    if sender_cls != "1":
        assert report.hangup_code == "0"
        assert [e.state for e in events][:3] == [LineState.DIALING, LineState.CONNECTED, LineState.PAGE]
    if receiver_cls != "1":
        assert fax.hangup_code == "0"


async def test_class20_modem_answers_like_a_class20_modem(line):
    channel = await AtChannel.open("emu://c2-a")
    try:
        assert (await channel.command("ATE0V1Q0")).ok
        assert (await channel.command("AT+FCLASS=2.0")).ok
        assert (await channel.command("AT+FCC=?")).text == "(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)"
        assert (await channel.command("AT+FCC=0,3,0,0,0,0,0,0")).ok
        assert (await channel.command("AT+FIS?")).text == "0,3,0,0,0,0,0,0"  # +FCC is copied into +FIS
        assert (await channel.command("AT+FIS=1")).ok
        assert (await channel.command("AT+FIS?")).text == "0,3,0,0,0,0,0,0"  # and limits it
        assert (await channel.command('AT+FLI="+49 30 1234"')).ok
        assert (await channel.command("AT+FLI?")).text == '"+49 30 1234"'
        assert (await channel.command("AT+FMI?")).text == "Appliance"
        assert (await channel.command("AT+FBO=4")).final == "ERROR"
        assert (await channel.command("AT+FDT")).final == "ERROR"  # no call up
        assert (await channel.command("AT+FCC=1,9")).final == "ERROR"
        assert (await channel.command("AT+FCLASS=2")).ok
        assert (await channel.command("AT+FDCC=?")).text.startswith("(0,1),(0-5)")
        assert (await channel.command("AT+FLID=\"X\"")).ok
        assert (await channel.command("AT+FLI=\"X\"")).final == "ERROR"  # a Class 2.0 name in Class 2
    finally:
        await channel.close()


async def test_class2_dialogue_and_abort_with_fk(line):
    # The result codes a Class 2 DTE sees when dialling, in SP-2388 order; then AT+FK ends the call.
    receiver = await FaxModem("emu://c2-b", "1", local_id="RECEIVER", timers=TIMERS).open()
    incoming = asyncio.create_task(receiver.receive(timeout=10))
    channel = await AtChannel.open("emu://c2-a")
    try:
        for command in ("ATE0V1Q0", "AT+FCLASS=2", 'AT+FLID="DTE"', "AT+FDCC=1,3,0,2,0,0,0,0"):
            assert (await channel.command(command)).ok
        dial = await channel.command("ATD200", timeout=20)
        assert dial.final == "OK"
        assert list(dial.lines) == ["+FCON", '+FCSI:"RECEIVER"', "+FDIS:1,5,0,2,1,0,0,0"]
        abort = await channel.command("AT+FK")
        assert abort.ok and list(abort.lines) == ["+FHNG:02"]
        assert (await channel.command("AT+FDT")).final == "ERROR"  # no call any more
        fax = await asyncio.wait_for(incoming, 20)
    finally:
        await channel.close()
        await receiver.close()
    assert not fax.ok and not fax.received
