"""Real peer: Debian efax as the other fax machine on the emulated line, Class 1, both directions.

efax opens the emulator's pty slave like a serial port.  Documented differences allowed in the
comparison: efax puts 20 rows of page header space on top of each page it sends (`-h ""` keeps them
blank); everything below must match pixel for pixel.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hardware.fax_modem.t30 import FaxModem, PageStatus, Timers
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4 import Page
from hardware.fax_modem.tiff import read_tiff
from tests.tools import require_tool

EFAX_HEADER_ROWS = 20  # efax.c HDRSPCE: rows of header space it adds above each sent page


def drawing(height: int, seed: int) -> Page:
    rows = []
    for r in range(height):
        row = bytearray(216)
        for c in range(216):
            if (r // 9 + c // 5 + seed) % 4 == 0 or (c == 100 + seed):
                row[c] = 0xFF if (r + c) % 7 else 0x3C
        rows.append(bytes(row))
    return Page.from_rows(rows, 1728, 196)


async def _run(args: list[str], log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*args, stdout=log.open("w"), stderr=asyncio.subprocess.STDOUT)


@pytest.fixture
async def efax_line(tmp_path):
    efax = require_tool("efax", "efax")
    exchange = Exchange(timescale=0.1)
    theirs = FaxModemEmulator(exchange, "100")
    ours = FaxModemEmulator(exchange, "200")
    path = await theirs.start_pty()
    undo = ours.register("ours-200")
    modem = await FaxModem("emu://ours-200", "1", local_id="APPLIANCE", timers=Timers()).open()
    yield efax, path, modem, tmp_path
    await modem.close()
    undo()
    await theirs.unplug()


async def test_efax_class1_sends_to_us(efax_line):
    efax, path, modem, tmp = efax_line
    pages = [drawing(260, 0), drawing(180, 3)]
    files = []
    for index, page in enumerate(pages):
        pbm = tmp / f"page{index}.pbm"
        pbm.write_bytes(b"P4\n%d %d\n" % (page.width, page.height) + page.data)
        files.append(str(pbm))
    incoming = asyncio.create_task(modem.receive(timeout=30))
    proc = await _run([efax, "-d", path, "-o1", "-l", "EFAX SENDER", "-x", str(tmp / "LCK"), "-v", "ewinchamr",
                       "-h", "", "-t", "200", *files], tmp / "efax.log")
    try:
        fax = await asyncio.wait_for(incoming, 90)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, (tmp / "efax.log").read_text()[-3000:]
    finally:
        if proc.returncode is None:
            proc.kill()
    assert fax.ok and fax.remote_id == "EFAX SENDER"
    assert fax.per_page_status == [PageStatus.MCF, PageStatus.MCF]
    for got, sent in zip(fax.pages, pages, strict=True):
        assert got.height == sent.height + EFAX_HEADER_ROWS
        assert not any(got.data[:EFAX_HEADER_ROWS * got.stride])
        assert got.data[EFAX_HEADER_ROWS * got.stride:] == sent.data


async def test_efax_class1_receives_from_us(efax_line):
    efax, path, modem, tmp = efax_line
    pages = [drawing(240, 1), drawing(300, 2)]
    proc = await _run([efax, "-d", path, "-o1", "-l", "EFAX RECV", "-x", str(tmp / "LCK"), "-v", "ewinchamr",
                       "-iS0=1", "-w", "-r", str(tmp / "rx")], tmp / "efax.log")
    try:
        await asyncio.sleep(1.0)  # efax initialises the modem before the call comes in
        report = await asyncio.wait_for(modem.send("100", pages), 90)
        assert await asyncio.wait_for(proc.wait(), 30) == 0, (tmp / "efax.log").read_text()[-3000:]
    finally:
        if proc.returncode is None:
            proc.kill()
    assert report.ok and report.remote_id == "EFAX RECV"
    assert [p.status for p in report.pages] == [PageStatus.MCF, PageStatus.MCF]
    received = sorted(tmp.glob("rx.*"))
    assert len(received) == 2
    for path_, sent in zip(received, pages, strict=True):
        (decoded,) = read_tiff(path_.read_bytes())  # efax stores each page as a TIFF-F file
        assert decoded.bad_line_count == 0
        assert decoded.page.data == sent.data and decoded.page.y_dpi == 196
