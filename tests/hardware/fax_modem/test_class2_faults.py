"""Class 2 / 2.0 under faults: busy, no answer, line noise (RTN by our copy check), carrier lost, pty closed."""
from __future__ import annotations

import asyncio

import pytest

from hardware.fax_modem.t30 import CallFailed, CopyQuality, FaxModem, LineState, PageStatus, Timers
from hardware.fax_modem.t30.caps import Capabilities, negotiate
from hardware.fax_modem.t30.pagedata import code_page, tcf_length
from tests.hardware.fax_modem.emulated import emulated_pair, stripes, unplug_during_second_page

TIMERS = Timers().scaled(0.3)
STRICT = CopyQuality(mcf_bad_ratio=0.0, rtp_bad_ratio=0.0)  # any bad row earns RTN


line = emulated_pair("c2f")


@pytest.mark.parametrize(("fault", "reason"), [("busy", "BUSY"), ("no_answer", "NO ANSWER")])
async def test_busy_and_no_answer(line, fault, reason):
    exchange, _, b = line
    setattr(b.port.faults, fault, True)
    exchange.max_rings = 2
    sender = await FaxModem("emu://c2f-a", "2.0", timers=TIMERS).open()
    events = []
    sender.on_event(events.append)
    try:
        with pytest.raises(CallFailed) as info:
            await sender.send("200", [stripes()])
    finally:
        await sender.close()
    assert info.value.reason == reason
    assert events[-1].state is LineState.FAILED


async def test_noise_gives_rtn_from_our_copy_check_then_the_page_again(line):
    exchange, a, b = line
    a.port.faults.ber = 6e-6
    a.port.faults.seed = 1
    sender = await FaxModem("emu://c2f-a", "2", timers=TIMERS).open()
    receiver = await FaxModem("emu://c2f-b", "2.0", timers=TIMERS, quality=STRICT).open()
    pages = [stripes(400)]
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await asyncio.wait_for(sender.send("200", pages), 60)
        fax = await asyncio.wait_for(incoming, 60)
    finally:
        await sender.close()
        await receiver.close()
    # The emulated modem alone would have said MCF (its copy check allows 2 % bad rows); our
    # stricter check made the driver answer AT+FPS=2, so the sender heard RTN and sent the page again.
    assert fax.per_page_status[0] is PageStatus.RTN and fax.per_page_status[-1] is PageStatus.MCF
    assert 0 < fax.received[0].decoded.bad_line_count <= 0.02 * 400
    assert "AT+FPS=2" in b.log
    assert report.ok and report.pages[0].attempts == len(fax.per_page_status) >= 2
    assert fax.pages == pages


async def test_carrier_lost_mid_page_keeps_the_good_pages(line):
    exchange, a, _ = line
    first, second = stripes(200), stripes(600, seed=2)
    mode = negotiate(Capabilities(), Capabilities())
    assert len(code_page(second, mode)) > 6000
    a.port.faults.cut_after_octets = tcf_length(mode) + len(code_page(first, mode)) + 8 + 3000
    sender = await FaxModem("emu://c2f-a", "2.0", timers=TIMERS).open()
    receiver = await FaxModem("emu://c2f-b", "2", timers=TIMERS).open()
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await asyncio.wait_for(sender.send("200", [first, second]), 60)
        fax = await asyncio.wait_for(incoming, 60)
    finally:
        await sender.close()
        await receiver.close()
    assert not report.ok and report.pages[0].status is PageStatus.MCF
    assert report.hangup_code == "40"  # unspecified transmit phase C error
    assert not fax.ok and fax.pages == [first]
    assert fax.hangup_code == "90" and fax.per_page_status[-1] in (PageStatus.PARTIAL, PageStatus.RTN)


async def test_pty_closed_mid_session_keeps_received_pages(line):
    fax, report, pages = await unplug_during_second_page(line, "emu://c2f-a", "2", "2.0")
    assert not fax.ok and "line lost" in fax.reason
    assert fax.pages == [pages[0]]
    assert not report.ok and report.pages[0].status is PageStatus.MCF


async def test_multitech_style_bit_order_is_detected(line):
    _, _, b = line
    b.class2_rx_reversed = False  # received data in line order even in Class 2, as Multi-Tech modems do
    sender = await FaxModem("emu://c2f-a", "2.0", timers=TIMERS).open()
    receiver = await FaxModem("emu://c2f-b", "2", timers=TIMERS).open()
    pages = [stripes(120), stripes(80, seed=1)]
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await asyncio.wait_for(sender.send("200", pages), 60)
        fax = await asyncio.wait_for(incoming, 60)
    finally:
        await sender.close()
        await receiver.close()
    assert report.ok and fax.ok and fax.pages == pages


async def test_xoff_from_the_modem_pauses_our_driver_on_a_pty(line):
    exchange, a, _ = line
    # Even at 1/50 of real time the DTE outruns the line: the modem's 1 KB buffer fills and it sends XOFF / XON.
    path = await a.start_pty()
    sender = await FaxModem(f"pty://{path}", "2", timers=TIMERS).open()
    receiver = await FaxModem("emu://c2f-b", "2.0", timers=TIMERS).open()
    pages = [stripes(300)]
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        report = await asyncio.wait_for(sender.send("200", pages), 60)
        fax = await asyncio.wait_for(incoming, 60)
    finally:
        await sender.close()
        await receiver.close()
    assert a.xoff_sent > 0  # the flow-control bytes came in the middle of the data phase...
    assert report.ok and fax.pages == pages  # ...and neither side took them for data or result codes
