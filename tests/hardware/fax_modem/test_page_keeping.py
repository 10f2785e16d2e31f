"""Each received page is handed to the DTE's keeper before the modem confirms it on the line (DESIGN "Intake":
spool before acknowledging), in Class 1 (our T.30 engine) and Class 2 / 2.0 (the modem holds MCF until +FDR)."""
from __future__ import annotations

import asyncio

import pytest

from hardware.fax_modem.t30 import FaxModem, PageStatus, ReceivedPage, Timers
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4 import Page

TIMERS = Timers().scaled(0.3)
CLASSES = ["1", "2", "2.0"]


def stripes(height: int = 120, seed: int = 0) -> Page:
    rows = [bytes((0xF0 if (r // 7 + c // 3 + seed) % 3 == 0 else 0) for c in range(216)) for r in range(height)]
    return Page.from_rows(rows, 1728, 196)


@pytest.fixture
async def line():
    exchange = Exchange(timescale=0.02)
    a = FaxModemEmulator(exchange, "100")
    b = FaxModemEmulator(exchange, "200")
    undo = [a.register("keep-a"), b.register("keep-b")]
    yield a, b
    for u in undo:
        u()


async def exchange_fax(cls: str, pages: list[Page], keeper):
    sender = await FaxModem("emu://keep-a", cls, local_id="SENDER", timers=TIMERS).open()
    receiver = await FaxModem("emu://keep-b", cls, local_id="RECEIVER", timers=TIMERS).open()
    try:
        incoming = asyncio.create_task(receiver.receive(timeout=10, keeper=keeper))
        report = await sender.send("200", pages)
        return report, await incoming
    finally:
        await sender.close()
        await receiver.close()


@pytest.mark.parametrize("cls", CLASSES)
async def test_each_page_is_kept_before_its_mcf_goes_on_the_line(line, cls):
    _, answering = line
    pages = [stripes(), stripes(90, 1), stripes(60, 2)]
    kept: list[tuple[int, Page, list[str]]] = []

    async def keeper(index: int, page: ReceivedPage, remote_id: str) -> None:
        assert remote_id == "SENDER"
        await asyncio.sleep(0.05)  # a slow disk: the confirmation must still wait for us
        kept.append((index, page.page, list(answering.transcript)))

    report, fax = await exchange_fax(cls, pages, keeper)
    assert report.ok and fax.ok and fax.pages == pages
    assert [(index, page) for index, page, _ in kept] == [(0, pages[0]), (1, pages[1]), (2, pages[2])]
    for confirmed_before, (_, _, seen) in enumerate(kept):
        assert seen.count("> MCF") == confirmed_before  # this page's MCF was not yet sent
    assert answering.transcript.count("> MCF") == len(pages)


@pytest.mark.parametrize("cls", CLASSES)
async def test_a_page_that_cannot_be_kept_is_refused_and_sent_again(line, cls):
    _, answering = line
    pages = [stripes(), stripes(90, 1)]
    calls: list[int] = []

    async def keeper(index: int, page: ReceivedPage, remote_id: str) -> None:
        calls.append(index)
        if len(calls) == 1:
            raise OSError("No space left on device")

    report, fax = await exchange_fax(cls, pages, keeper)
    assert "> RTN" in answering.transcript
    assert report.ok and [p.attempts for p in report.pages] == [2, 1]
    assert fax.per_page_status[0] is PageStatus.RTN and fax.pages == pages
    assert len(calls) == 3
