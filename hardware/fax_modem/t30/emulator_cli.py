"""Command line for technicians: emulated fax modems on ptys, joined by one emulated phone line.

    python -m hardware.fax_modem.t30.emulator --pty --class 2.0 --number 100
    python -m hardware.fax_modem.t30.emulator --pty --number 100 --peer 200:1 --receiver 300 --spool /tmp/faxes

Prints one line per modem, "<number> <class> <pty path>", then serves until interrupted.  Point
efax, mgetty sendfax, HylaFAX or our own hwtests at a path; dial another modem's number.  With
--receiver, calls to that number are answered by our own Class 1 driver and each received fax is
written to the spool directory as TIFF Class F (fax-<n>.tif), so something always takes the call.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t30.modem import FaxModem
from hardware.fax_modem.tiff import write_tiff

CLASS_SETS = {"1": ("0", "1"), "2": ("0", "2"), "2.0": ("0", "2.0"), "all": ("0", "1", "2", "2.0")}
log = logging.getLogger(__name__)


def _modem_spec(text: str) -> tuple[str, str]:
    number, _, cls = text.partition(":")
    if not number.isdigit() or (cls or "all") not in CLASS_SETS:
        raise argparse.ArgumentTypeError(f"{text!r}: want NUMBER or NUMBER:CLASS with CLASS one of {sorted(CLASS_SETS)}")
    return number, cls or "all"


async def _receive_forever(exchange: Exchange, number: str, spool: Path) -> None:
    """Our own driver answers calls to `number` and stores each fax as TIFF."""
    modem = FaxModemEmulator(exchange, number, local_id=f"APPLIANCE {number}")
    unregister = modem.register(f"cli-receiver-{number}")
    spool.mkdir(parents=True, exist_ok=True)
    driver = await FaxModem(f"emu://cli-receiver-{number}", "1", local_id=f"APPLIANCE {number}").open()
    count = 0
    try:
        while True:
            fax = await driver.receive()
            if fax.received:
                count += 1
                path = spool / f"fax-{count}.tif"
                path.write_bytes(write_tiff([r.decoded for r in fax.received]))
                print(f"received {len(fax.pages)} pages from {fax.remote_id!r} -> {path} ({fax.reason})", flush=True)
            else:
                print(f"call to {number} without pages: {fax.reason}", flush=True)
    finally:
        await driver.close()
        unregister()


async def _main(args: argparse.Namespace) -> None:
    exchange = Exchange(timescale=args.timescale)
    modems = []
    for number, cls in [(args.number, args.fax_class)] + list(args.peer):
        modem = FaxModemEmulator(exchange, number, local_id=args.local_id or "", classes=CLASS_SETS[cls])
        path = await modem.start_pty()
        print(f"{number} {cls} {path}", flush=True)
        modems.append(modem)
    tasks = [asyncio.create_task(_receive_forever(exchange, args.receiver, Path(args.spool)))] if args.receiver else []
    try:
        await asyncio.Event().wait()  # serve until interrupted
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for modem in modems:
            await modem.unplug()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve the emulated modems until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m hardware.fax_modem.t30.emulator",
                                     description="Emulated fax modems (Class 1, 2, 2.0) on ptys, on one phone line")
    parser.add_argument("--pty", action="store_true", help="serve on ptys (the only transport of this command)")
    parser.add_argument("--class", dest="fax_class", default="all", choices=sorted(CLASS_SETS),
                        help="service classes the modem offers in +FCLASS=? (default: all)")
    parser.add_argument("--number", default="100", help="this modem's phone number (default 100)")
    parser.add_argument("--peer", action="append", default=[], type=_modem_spec, metavar="NUMBER[:CLASS]",
                        help="another modem on the same line, on its own pty")
    parser.add_argument("--receiver", metavar="NUMBER", help="our own driver answers this number and keeps the faxes")
    parser.add_argument("--spool", default="fax-spool", help="where --receiver writes fax-<n>.tif (default ./fax-spool)")
    parser.add_argument("--local-id", help="station id the modems start with (the DTE usually sets its own)")
    parser.add_argument("--timescale", type=float, default=1.0,
                        help="modem timings factor: 1.0 real (default), 0.1 ten times faster")
    parser.add_argument("-v", "--verbose", action="store_true", help="log T.30 sessions to stderr")
    args = parser.parse_args(argv)
    if not args.pty:
        parser.error("only --pty is supported: the modems live on pseudo-terminals")
    if not args.number.isdigit():
        parser.error(f"--number {args.number!r} must be digits")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))
    return 0
