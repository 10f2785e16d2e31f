"""T.30 figures: frame codec speed and a two-page Class 1 fax over the emulated line."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from bench.figure import figure
from hardware.fax_modem.t30 import Capabilities, FaxModem, Timers
from hardware.fax_modem.t30.caps import decode_dis, encode_dis
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.frames import FCF, Frame, decode_frame, encode_frame
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4 import Page


def _frames_per_s() -> float:
    data = encode_frame(Frame(FCF.DIS, encode_dis(Capabilities())))
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        decode_dis(decode_frame(data).fif)
    return n / (time.perf_counter() - start)


async def _call_seconds() -> float:
    exchange = Exchange(timescale=0.01)
    a, b = FaxModemEmulator(exchange, "1"), FaxModemEmulator(exchange, "2")
    undo = [a.register("bench-a"), b.register("bench-b")]
    rows = [bytes((0xF0 if (r // 5 + c) % 3 else 0) for c in range(216)) for r in range(1100)]
    pages = [Page.from_rows(rows, 1728, 196)] * 2
    timers = Timers().scaled(0.2)
    sender = await FaxModem("emu://bench-a", timers=timers).open()
    receiver = await FaxModem("emu://bench-b", timers=timers).open()
    start = time.perf_counter()
    incoming = asyncio.create_task(receiver.receive(timeout=10))
    await sender.send("2", pages)
    await incoming
    elapsed = time.perf_counter() - start
    await sender.close()
    await receiver.close()
    for u in undo:
        u()
    return elapsed


def figures() -> Iterable[dict]:
    """t30.dis_decode_per_s, t30.class1_two_page_call_s (emulated line at 1/100 of real timing)."""
    yield figure("t30.dis_decode_per_s", round(_frames_per_s()), "frames/s")
    yield figure("t30.class1_two_page_call_s", round(asyncio.run(_call_seconds()), 2), "s")
