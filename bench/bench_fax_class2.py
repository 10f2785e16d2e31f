"""Fax Class 2 / 2.0 figures: report parsing, and a two-page Class 2.0 -> Class 2 call against the Class 1 one."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from bench.figure import figure
from hardware.fax_modem.t30 import FaxModem, Timers
from hardware.fax_modem.t30.class2_codes import mode_of_params, parse_params
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4 import Page


def _reports_per_s() -> float:
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        mode_of_params(parse_params("+FCS:1,5,0,2,1,0,0,0", hexadecimal=True))
    return n / (time.perf_counter() - start)


async def _call_seconds(sender_cls: str, receiver_cls: str, tag: str) -> float:
    exchange = Exchange(timescale=0.01)
    a, b = FaxModemEmulator(exchange, "1"), FaxModemEmulator(exchange, "2")
    undo = [a.register(f"bench2-a-{tag}"), b.register(f"bench2-b-{tag}")]
    rows = [bytes((0xF0 if (r // 5 + c) % 3 else 0) for c in range(216)) for r in range(1100)]
    pages = [Page.from_rows(rows, 1728, 196)] * 2
    timers = Timers().scaled(0.2)
    sender = await FaxModem(f"emu://bench2-a-{tag}", sender_cls, timers=timers).open()
    receiver = await FaxModem(f"emu://bench2-b-{tag}", receiver_cls, timers=timers).open()
    start = time.perf_counter()
    incoming = asyncio.create_task(receiver.receive(timeout=10))
    report = await sender.send("2", pages)
    fax = await incoming
    elapsed = time.perf_counter() - start
    await sender.close()
    await receiver.close()
    for u in undo:
        u()
    if not (report.ok and fax.ok):
        raise RuntimeError(f"bench call failed: {report.reason} / {fax.reason}")
    return elapsed


def figures() -> Iterable[dict]:
    """fax_class2.report_parse_per_s; fax_class2.two_page_call_s with the Class 1 call as baseline (same run)."""
    yield figure("fax_class2.report_parse_per_s", round(_reports_per_s()), "reports/s")
    class1 = asyncio.run(_call_seconds("1", "1", "c1"))
    class2 = asyncio.run(_call_seconds("2.0", "2", "c2"))
    yield figure("fax_class2.two_page_call_s", round(class2, 2), "s", baseline=round(class1, 2))
