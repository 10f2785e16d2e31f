"""Real peers in Class 2 / 2.0: Debian efax (-o2, -o0) both ways and mgetty-fax's sendfax (Class 2.0) to us.

Each peer drives an emulated Class 2 / 2.0 modem on a pty (the modem runs our T.30 session); we
are on the other end of the emulated line with our Class 2.0, Class 2 or Class 1 driver.  Pages
are compared pixel for pixel after decoding.  Allowed differences: efax adds 20 blank header rows
on top of each page it sends (`-h ""`), as in the Class 1 interop test.  The line runs at 1/10 of
real time, so efax logs "flow control did not work" (its byte count per wall-clock second exceeds
the nominal rate); that message is expected here.
"""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from hardware.fax_modem.t30 import FaxModem, PageStatus, Timers
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4 import Page
from hardware.fax_modem.tiff import read_tiff
from tests.hardware.fax_modem.test_interop_efax import EFAX_HEADER_ROWS, drawing
from tests.tools import require_tool


def write_pbm(path: Path, page: Page) -> str:
    path.write_bytes(b"P4\n%d %d\n" % (page.width, page.height) + page.data)
    return str(path)


async def _run(args: list[str], log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*args, stdout=log.open("w"), stderr=asyncio.subprocess.STDOUT)


async def _finish(proc: asyncio.subprocess.Process, log: Path) -> None:
    try:
        code = await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert code == 0, log.read_text()[-3000:]


async def _wait_for_text(log: Path, text: str, seconds: float = 20) -> None:
    for _ in range(int(seconds * 20)):
        if log.exists() and text in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} never showed in {log}: {log.read_text()[-2000:]}")


@pytest.fixture
async def peer_line(tmp_path):
    """A pty modem for the real tool (number 100) and our modem on emu:// (number 200)."""
    exchange = Exchange(timescale=0.1)
    theirs = FaxModemEmulator(exchange, "100")
    ours = FaxModemEmulator(exchange, "200")
    path = await theirs.start_pty()
    undo = ours.register("peer-200")
    opened: list[FaxModem] = []

    async def ours_in(cls: str) -> FaxModem:
        modem = await FaxModem("emu://peer-200", cls, local_id="APPLIANCE", timers=Timers()).open()
        opened.append(modem)
        return modem

    yield path, ours_in, theirs, tmp_path
    for modem in opened:
        await modem.close()
    undo()
    await theirs.unplug()


@pytest.mark.parametrize(("efax_class", "our_class"), [("2", "2.0")])
async def test_efax_class2_sends_to_us(peer_line, efax_class, our_class):
    path, ours_in, theirs, tmp = peer_line
    efax = require_tool("efax", "efax")
    modem = await ours_in(our_class)
    pages = [drawing(260, 0), drawing(180, 3)]
    files = [write_pbm(tmp / f"page{i}.pbm", page) for i, page in enumerate(pages)]
    incoming = asyncio.create_task(modem.receive(timeout=30))
    log = tmp / "efax.log"
    proc = await _run([efax, "-d", path, f"-o{efax_class}", "-l", "EFAX SENDER", "-x", str(tmp / "LCK"),
                       "-v", "ewinchamr", "-h", "", "-t", "200", *files], log)
    fax = await asyncio.wait_for(incoming, 90)
    await _finish(proc, log)
    assert f"AT+FCLASS={'2.0' if efax_class == '0' else '2'}" in theirs.log
    assert fax.ok and fax.remote_id == "EFAX SENDER" and fax.hangup_code == "0"
    assert fax.per_page_status == [PageStatus.MCF, PageStatus.MCF]
    for got, sent in zip(fax.pages, pages, strict=True):
        assert got.height == sent.height + EFAX_HEADER_ROWS
        assert not any(got.data[:EFAX_HEADER_ROWS * got.stride])
        assert got.data[EFAX_HEADER_ROWS * got.stride:] == sent.data


@pytest.mark.parametrize(("efax_class", "our_class"), [("2", "2.0"), ("0", "1")])
async def test_efax_class2_receives_from_us(peer_line, efax_class, our_class):
    path, ours_in, theirs, tmp = peer_line
    efax = require_tool("efax", "efax")
    modem = await ours_in(our_class)
    pages = [drawing(240, 1), drawing(300, 2)]
    log = tmp / "efax.log"
    proc = await _run([efax, "-d", path, f"-o{efax_class}", "-l", "EFAX RECV", "-x", str(tmp / "LCK"),
                       "-v", "ewinchamr", "-iS0=1", "-w", "-r", str(tmp / "rx")], log)
    try:
        await _wait_for_text(log, "waiting for activity")  # efax has set the modem up and waits for RING
        report = await asyncio.wait_for(modem.send("100", pages), 90)
    finally:
        await _finish(proc, log)
    assert report.ok and report.remote_id == "EFAX RECV", report.reason
    assert [p.status for p in report.pages] == [PageStatus.MCF, PageStatus.MCF]
    received = sorted(tmp.glob("rx.*"))
    assert len(received) == 2
    for file, sent in zip(received, pages, strict=True):
        (decoded,) = read_tiff(file.read_bytes())  # efax stores each page as a TIFF-F file
        assert decoded.bad_line_count == 0
        assert decoded.page.data == sent.data and decoded.page.y_dpi == 196


@pytest.mark.parametrize("our_class", ["2.0"])
async def test_mgetty_sendfax_class20_sends_to_us(peer_line, our_class):
    path, ours_in, theirs, tmp = peer_line
    sendfax = require_tool("sendfax", "mgetty-fax")
    pbm2g3 = require_tool("pbm2g3", "mgetty-fax")
    modem = await ours_in(our_class)
    pages = [drawing(260, 0), drawing(180, 3)]
    files = []
    for index, page in enumerate(pages):
        g3 = tmp / f"page{index}.g3"
        g3.write_bytes(subprocess.run([pbm2g3, write_pbm(tmp / f"page{index}.pbm", page)],
                                      capture_output=True, check=True).stdout)
        files.append(str(g3))
    incoming = asyncio.create_task(modem.receive(timeout=30))
    log = tmp / "sendfax.log"
    # sendfax always reads /etc/mgetty/sendfax.config; everything this test needs is on the command line.
    proc = await _run([sendfax, "-v", "-x", "5", "-C", "c2.0", "-I", "MGETTY SENDER", "-l", path, "200", *files], log)
    fax = await asyncio.wait_for(incoming, 90)
    await _finish(proc, log)
    assert "AT+FCLASS=2.0" in theirs.log and any(line.startswith("AT+FLI=") for line in theirs.log)
    assert fax.ok and fax.remote_id == "MGETTY SENDER"
    assert fax.per_page_status == [PageStatus.MCF, PageStatus.MCF]
    assert fax.pages == pages  # sendfax adds no header: the pages arrive exactly as drawn
