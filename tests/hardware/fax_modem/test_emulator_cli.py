"""The technicians' command line: modems on ptys, a built-in receiver that keeps what it gets as TIFF."""
from __future__ import annotations

import asyncio
import signal
import sys

from hardware.fax_modem.t30 import FaxModem, Timers
from hardware.fax_modem.tiff import read_tiff
from hardware.serial import AtChannel
from tests.hardware.fax_modem.emulated import stripes


async def test_class20_modem_on_a_pty_faxes_the_built_in_receiver(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hardware.fax_modem.t30.emulator", "--pty", "--class", "2.0", "--number", "100",
        "--receiver", "300", "--spool", str(tmp_path), "--timescale", "0.05", stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        number, cls, path = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().split()
        assert (number, cls) == ("100", "2.0") and path.startswith("/dev/pts/")
        channel = await AtChannel.open(f"pty://{path}")
        try:
            assert (await channel.command("AT+FCLASS=?")).text == "0,2.0"
            assert (await channel.command("AT+FCLASS=1")).final == "ERROR"  # this modem is Class 2.0 only
        finally:
            await channel.close()
        pages = [stripes(120), stripes(60, seed=2)]
        async with FaxModem(f"pty://{path}", "2.0", local_id="TECHNICIAN", timers=Timers().scaled(0.3)) as modem:
            report = await asyncio.wait_for(modem.send("300", pages), 60)
        assert report.ok, report.reason
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line.startswith("received 2 pages from 'TECHNICIAN'")
        stored = read_tiff((tmp_path / "fax-1.tif").read_bytes())
        assert [d.page for d in stored] == pages
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
    assert proc.returncode == 0
