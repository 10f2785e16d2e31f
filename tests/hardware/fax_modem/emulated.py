"""What the fax driver tests share: a striped test page, a pair of emulated modems on one exchange, and the
"line pulled during the second page" scenario every class must survive."""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable

import pytest

from hardware.fax_modem.t30 import FaxModem, LineState, Timers
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4 import Page

TIMERS = Timers().scaled(0.3)


def stripes(height: int = 150, seed: int = 0) -> Page:
    """A page of diagonal stripes; different seeds give pages that differ in every row."""
    rows = [bytes((0xF0 if (r // 7 + c // 3 + seed) % 3 == 0 else 0) for c in range(216)) for r in range(height)]
    return Page.from_rows(rows, 1728, 196)


def emulated_pair(prefix: str) -> Callable[[], AsyncIterator[tuple[Exchange, FaxModemEmulator, FaxModemEmulator]]]:
    """A `line` fixture: modems 100 and 200 on one fast exchange, registered as emu://{prefix}-a and -b.

    Each test module takes its own prefix so modules running in one process never share a registration."""
    @pytest.fixture
    async def line() -> AsyncIterator[tuple[Exchange, FaxModemEmulator, FaxModemEmulator]]:
        exchange = Exchange(timescale=0.02)
        a = FaxModemEmulator(exchange, "100")
        b = FaxModemEmulator(exchange, "200")
        undo = [a.register(f"{prefix}-a"), b.register(f"{prefix}-b")]
        yield exchange, a, b
        for u in undo:
            u()
    return line


async def unplug_during_second_page(line: Any, sender_url: str, sender_class: str,
                                    receiver_class: str) -> tuple[Any, Any, list[Page]]:
    """Send three pages to modem b over its pty and pull b's line once the second page has started.

    Returns (what the receiver got, the sender's report, the pages sent)."""
    _exchange, _a, b = line
    path = await b.start_pty()
    sender = await FaxModem(sender_url, sender_class, timers=TIMERS).open()
    receiver = await FaxModem(f"pty://{path}", receiver_class, timers=TIMERS).open()
    pages = [stripes(200), stripes(2000, seed=1), stripes(200, seed=2)]
    got_page = asyncio.Event()
    receiver.on_event(lambda e: got_page.set() if e.state is LineState.PAGE else None)
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10))
        outgoing = asyncio.create_task(sender.send("200", pages))
        await asyncio.wait_for(got_page.wait(), 10)
        got_page.clear()
        await asyncio.wait_for(got_page.wait(), 10)  # the second page has started
        await b.unplug()
        fax = await asyncio.wait_for(incoming, 20)
        report = await asyncio.wait_for(outgoing, 30)
    finally:
        await sender.close()
        await receiver.close()
    return fax, report, pages
