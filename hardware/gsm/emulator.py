"""A GSM modem emulator that speaks TS 27.007 / TS 27.005 like a real USB stick, with a scriptable network.

    emu = GsmEmulator(pin="1234")
    register_emulator("gsm-a", emu)              # then AtChannel.open("emu://gsm-a")
    path = await PtyEndpoint(emu).start()        # or a real pty for gammu / the driver
    emu.inject_sms(text="Hello", sender="+46708251358")   # stored in SM, +CMTI to listeners
    emu.deliver_report(reference=5)              # SMS-STATUS-REPORT as +CDS (or +CDSI)
    emu.set_signal(10); emu.lose_network(); emu.restore_network(); emu.sim_full = True
    emu.fail_next_send(331)                      # the next +CMGS answers +CMS ERROR: 331
    GsmEmulator(auto_reports=0.5)                # status reports arrive by themselves
    await emu.unplug()                           # every connection drops

`python -m hardware.gsm.emulator --pty` prints the slave path and serves until interrupted; lines on
stdin script the network: `sms <sender> <text>`, `report <mr> [status]`, `signal <0-31>`, `unplug`.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from hardware.gsm.emulator_at import AtCommands, BodyRequest, CommandFailed, StoredSms
from hardware.gsm.errors import GsmError
from hardware.gsm.fields import Address
from hardware.gsm.pdu import DeliverPdu, SubmitPdu, cmgs_length, encode_pdu, split_text

CTRL_Z, ESC, BACKSPACE = 0x1A, 0x1B, 0x08
NUMERIC_RESULTS = {"OK": "0", "CONNECT": "1", "RING": "2", "NO CARRIER": "3", "ERROR": "4"}


@dataclass(frozen=True)
class SentSms:
    """A message the emulated network accepted from us."""

    reference: int
    pdu: SubmitPdu
    raw: bytes


class GsmEmulator(AtCommands):
    """The emulated modem and its network (see the module docstring)."""

    def __init__(self, *, pin: str | None = None, manufacturer: str = "Appliance Labs", model: str = "EMU-GSM 1",
                 revision: str = "1.0.0", imei: str = "356938035643809", imsi: str = "240991234567890",
                 smsc: str = "+46700000001", operator: str = "Emu Mobile", capacity: int = 30,
                 auto_reports: float | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.manufacturer, self.model, self.revision = manufacturer, model, revision
        self.imei, self.imsi, self.smsc, self.operator = imei, imsi, smsc, operator
        self.mcc_mnc, self.lac, self.cell = "24099", "1A2B", "00C0FFEE"
        self.pin = pin
        self.auto_reports = auto_reports  # seconds until a requested status report arrives by itself
        self.pin_state = "SIM PIN" if pin else "READY"
        self.now = now or (lambda: datetime.now(timezone.utc).replace(microsecond=0))
        self.echo, self.verbose, self.cmee, self.cmgf, self.cscs = True, True, 0, 0, "GSM"
        self.creg_mode, self.clip = 0, False
        self.cnmi = [0, 0, 0, 0, 0]
        self.rssi, self.registered = 20, True
        self.stores: dict[str, dict[int, StoredSms]] = {"SM": {}, "ME": {}}
        self.capacity = {"SM": capacity, "ME": capacity}
        self.mem = ["SM", "SM", "SM"]
        self.sim_full = False
        self.sent: list[SentSms] = []
        self.waiting: list[bytes] = []  # deliveries the network holds while the store is full
        self.commands: deque[str] = deque(maxlen=2000)
        self.body_request: BodyRequest | None = None
        self.deleted = 0
        self._next_reference = 0
        self._fail_next: list[int] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._readers: set[asyncio.StreamReader] = set()
        self._backlog: list[bytes] = []
        self._in_body = False
        self.unplugged = False
        self._handlers = self.handlers()

    # --- scripting the network --------------------------------------------------------------

    @property
    def registration_status(self) -> int:
        """+CREG <stat>: 1 registered (home), 2 searching."""
        return 1 if self.registered else 2

    def inject_sms(self, pdu: bytes | DeliverPdu | None = None, *, text: str | None = None,
                   sender: str = "+46708251358", timestamp: datetime | None = None, reference: int = 1) -> list[int]:
        """Deliver an SMS (a PDU with SMSC prefix, a DeliverPdu, or text split into parts); returns store indexes."""
        if pdu is None:
            if text is None:
                raise GsmError("inject_sms needs a pdu or a text")
            stamp = timestamp or self.now()
            parts = split_text(text, "+1", reference=reference)
            raws = [encode_pdu(DeliverPdu(sender=Address.parse(sender), timestamp=stamp, text=p.text, dcs=p.dcs,
                                          udh=p.udh, smsc=Address.parse(self.smsc))) for p in parts]
        elif isinstance(pdu, DeliverPdu):
            raws = [encode_pdu(pdu)]
        else:
            raws = [bytes(pdu)]
        return [i for raw in raws if (i := self._deliver(raw, "+CMT", "+CMTI")) is not None]

    def deliver_report(self, reference: int | None = None, status: int = 0) -> bytes:
        """Send the status report for a sent message (the last one by default); returns its PDU."""
        sent = next((s for s in reversed(self.sent) if reference is None or s.reference == reference), None)
        if sent is None:
            raise GsmError(f"no sent message with reference {reference}")
        raw = self.status_report_pdu(sent.pdu, sent.reference, status, self.now())
        ds = self.cnmi[3]
        if ds == 1:
            self.emit(f"+CDS: {cmgs_length(raw)}", raw.hex().upper())
        elif ds == 2:
            self._deliver(raw, None, "+CDSI")
        return raw

    def _deliver(self, raw: bytes, direct: str | None, indication: str | None) -> int | None:
        mt = self.cnmi[1]
        if direct and mt == 2:
            self.emit(f"{direct}: ,{cmgs_length(raw)}", raw.hex().upper())
            return None
        name = self.mem[2]
        store = self.stores[name]
        if self.sim_full or len(store) >= self.capacity[name]:
            self.waiting.append(raw)  # TS 23.040: the SC keeps it and retries when memory is available
            return None
        index = next(i for i in range(1, self.capacity[name] + 2) if i not in store)
        store[index] = StoredSms(0, raw)
        if indication and (mt in (1, 2) or indication == "+CDSI"):
            self.emit(f'{indication}: "{name}",{index}')
        return index

    def network_retry(self) -> None:
        """Deliver what the network held back, now that there may be room."""
        pending, self.waiting = self.waiting, []
        for raw in pending:
            self._deliver(raw, "+CMT", "+CMTI")

    def set_signal(self, rssi: int) -> None:
        """Set +CSQ <rssi> (0..31)."""
        self.rssi = rssi

    def lose_network(self) -> None:
        """Drop registration (+CREG: 2), sends fail with +CMS ERROR: 331."""
        self.registered = False
        self._creg_urc()

    def restore_network(self) -> None:
        """Register again."""
        self.registered = True
        self._creg_urc()

    def _creg_urc(self) -> None:
        if self.creg_mode == 1:
            self.emit(f"+CREG: {self.registration_status}")
        elif self.creg_mode == 2:
            self.emit(f'+CREG: {self.registration_status},"{self.lac}","{self.cell}"' if self.registered
                      else f"+CREG: {self.registration_status}")

    def fail_next_send(self, cms: int = 500) -> None:
        """Make the next +CMGS fail with +CMS ERROR: <cms>."""
        self._fail_next.append(cms)

    def incoming_call(self, number: str = "+46708251358") -> None:
        """RING (and +CLIP when enabled)."""
        self.emit("RING")
        if self.clip:
            addr = Address.parse(number)
            self.emit(f'+CLIP: "{addr}",{addr.type_octet}')

    async def unplug(self) -> None:
        """Drop every connection and refuse new ones; each `serve` returns (a pty endpoint then closes)."""
        self.unplugged = True
        for writer in list(self._writers):
            writer.close()
        for reader in list(self._readers):
            reader.feed_eof()
        self._writers.clear()

    def emit(self, *lines: str) -> None:
        """Send an unsolicited result code (held back while a body is being typed after '> ')."""
        data = "".join(f"\r\n{line}" for line in lines).encode() + b"\r\n"
        if self._in_body:
            self._backlog.append(data)
            return
        for writer in list(self._writers):
            if not writer.is_closing():
                writer.write(data)

    # --- the AT interpreter -----------------------------------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Talk to one connected driver until it goes away."""
        if self.unplugged:
            writer.close()
            return
        self._writers.add(writer)
        self._readers.add(reader)
        line, body = bytearray(), bytearray()
        try:
            while True:
                data = await reader.read(1024)
                if not data:
                    return
                if self.echo:
                    writer.write(data)
                for byte in data:
                    if self.body_request is not None:
                        if byte in (CTRL_Z, ESC):
                            writer.write(self._finish_body(bytes(body), cancelled=byte == ESC))
                            body.clear()
                            self._flush_backlog(writer)
                        elif byte not in (0x0D, 0x0A) or self.cmgf == 1:
                            body.append(byte)
                    elif byte == 0x0D:
                        writer.write(self.execute(line.decode("latin-1")))
                        line.clear()
                    elif byte == BACKSPACE:
                        del line[-1:]
                    elif byte != 0x0A:
                        line.append(byte)
                await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            self._writers.discard(writer)
            self._readers.discard(reader)

    def _flush_backlog(self, writer: asyncio.StreamWriter) -> None:
        self._in_body = False
        for data in self._backlog:
            writer.write(data)
        self._backlog.clear()

    def _frame(self, lines: list[str], final: str) -> bytes:
        if not self.verbose:
            info = "".join(f"{line}\r\n" for line in lines)
            return (info + NUMERIC_RESULTS.get(final, "4") + "\r").encode()
        return ("".join(f"\r\n{line}" for line in lines) + ("\r\n" if lines else "") + f"\r\n{final}\r\n").encode()

    def _error(self, failure: CommandFailed) -> str:
        if failure.cms is not None and self.cmee:
            return f"+CMS ERROR: {failure.cms}"
        if failure.cme is not None and self.cmee:
            return f"+CME ERROR: {failure.cme}"
        return "ERROR"

    def execute(self, text: str) -> bytes:
        """Run one command line (without its CR) and return what the modem answers."""
        text = text.strip()
        if text[:2].upper() != "AT":
            return b""  # V.250 §5.2.1: no "AT" prefix, no command line
        self.commands.append(text)
        lines: list[str] = []
        try:
            for name, mode, arg in _split_command_line(text[2:]):
                lines += self._run_one(name, mode, arg)
                if self.body_request is not None:
                    self._in_body = True
                    return self._frame_partial(lines) + b"\r\n> "
        except CommandFailed as failure:
            return self._frame(lines, self._error(failure))
        return self._frame(lines, "OK")

    def _frame_partial(self, lines: list[str]) -> bytes:
        return "".join(f"\r\n{line}\r\n" for line in lines).encode()

    def _run_one(self, name: str, mode: str, arg: str) -> list[str]:
        basic = _BASIC.get(name[:1]) if not name.startswith(("+", "^", "&")) else None
        if basic is not None:
            return basic(self, name[1:])
        if name.startswith("&"):
            return []  # &F, &C1, &D2, &W: accepted, nothing to configure
        handler = self._handlers.get(name.upper())
        if handler is None:
            raise CommandFailed(cme=4)
        return handler(mode, arg)

    def _finish_body(self, body: bytes, cancelled: bool) -> bytes:
        request, self.body_request = self.body_request, None
        assert request is not None
        if cancelled:
            return self._frame([], "OK")  # TS 27.005 §3.5.1: ESC quits without sending
        try:
            msg, raw = self.submit_from_body(request, body)
            if request.command == "+CMGW":
                return self._frame([f"+CMGW: {self._store_outgoing(raw)}"], "OK")
            if self._fail_next:
                raise CommandFailed(cms=self._fail_next.pop(0))
            if not self.registered:
                raise CommandFailed(cms=331)
            self._next_reference = (self._next_reference + 1) % 256
            self.sent.append(SentSms(self._next_reference, msg, raw))
            if self.auto_reports is not None and msg.status_report_request:
                asyncio.get_running_loop().call_later(self.auto_reports, self.deliver_report, self._next_reference)
            return self._frame([f"+CMGS: {self._next_reference}"], "OK")
        except CommandFailed as failure:
            return self._frame([], self._error(failure))

    def _store_outgoing(self, raw: bytes) -> int:
        store = self.stores[self.mem[1]]
        if self.sim_full or len(store) >= self.capacity[self.mem[1]]:
            raise CommandFailed(cms=322)
        index = next(i for i in range(1, self.capacity[self.mem[1]] + 2) if i not in store)
        store[index] = StoredSms(2, raw)
        return index


def _basic_e(emu: GsmEmulator, arg: str) -> list[str]:
    emu.echo = arg != "0"
    return []


def _basic_v(emu: GsmEmulator, arg: str) -> list[str]:
    emu.verbose = arg != "0"
    return []


def _basic_i(emu: GsmEmulator, arg: str) -> list[str]:
    return [f"{emu.manufacturer}", f"{emu.model}", f"Revision: {emu.revision}"] if arg in ("", "0") else [emu.model]


def _basic_z(emu: GsmEmulator, arg: str) -> list[str]:
    emu.echo, emu.verbose, emu.cmee = True, True, 0
    return []


def _basic_ok(emu: GsmEmulator, arg: str) -> list[str]:
    return []


def _basic_dial(emu: GsmEmulator, arg: str) -> list[str]:
    raise CommandFailed()  # no voice or data calls on this emulator


_BASIC: dict[str, Callable[[GsmEmulator, str], list[str]]] = {
    "E": _basic_e, "V": _basic_v, "I": _basic_i, "Z": _basic_z, "Q": _basic_ok, "X": _basic_ok, "L": _basic_ok,
    "M": _basic_ok, "H": _basic_ok, "S": _basic_ok, "D": _basic_dial, "A": _basic_dial,
}


def _split_command_line(rest: str) -> list[tuple[str, str, str]]:
    """V.250 §5.2: basic commands one after another, extended ones separated by ';'."""
    out: list[tuple[str, str, str]] = []
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch in " ;":
            i += 1
        elif ch in "+^":
            end = rest.find(";", i)
            end = len(rest) if end < 0 else end
            out.append(_extended(rest[i:end]))
            i = end + 1
        elif ch.upper() == "D":
            out.append(("D" + rest[i + 1:], "", ""))
            break
        elif ch == "&" or ch.upper() == "S":
            j = i + 1 if ch.upper() == "S" else i + 2
            while j < len(rest) and (rest[j].isdigit() or rest[j] in "=?"):
                j += 1
            out.append((rest[i:j].upper(), "", ""))
            i = j
        elif ch.isalpha():
            j = i + 1
            while j < len(rest) and rest[j].isdigit():
                j += 1
            out.append((ch.upper() + rest[i + 1:j], "", ""))
            i = j
        else:
            raise CommandFailed()
    return out


def _extended(command: str) -> tuple[str, str, str]:
    for mode in ("=?", "?", "="):
        name, sep, arg = command.partition(mode)
        if sep and (mode != "=" or "?" not in name):
            return name.strip().upper(), mode, arg
    return command.strip().upper(), "", ""


async def _script(emu: GsmEmulator) -> None:
    """Read network commands from stdin (see the module docstring)."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        words = line.strip().split(maxsplit=2)
        if not words:
            continue
        try:
            if words[0] == "sms" and len(words) == 3:
                print("stored at", emu.inject_sms(text=words[2], sender=words[1]), flush=True)
            elif words[0] == "report":
                emu.deliver_report(int(words[1]) if len(words) > 1 else None,
                                   int(words[2]) if len(words) > 2 else 0)
            elif words[0] == "signal":
                emu.set_signal(int(words[1]))
            elif words[0] == "unplug":
                await emu.unplug()
                return
            else:
                print("commands: sms <sender> <text> | report [mr] [status] | signal <rssi> | unplug", flush=True)
        except (GsmError, ValueError, IndexError) as exc:
            print(f"error: {exc}", flush=True)


async def _main(args: argparse.Namespace) -> None:
    from hardware.serial.pty import PtyEndpoint

    emu = GsmEmulator(pin=args.pin, auto_reports=args.auto_reports)
    endpoint = PtyEndpoint(emu)
    print(await endpoint.start(), flush=True)
    try:
        await _script(emu)
        if not emu.unplugged:
            await asyncio.Event().wait()
    finally:
        await endpoint.close()


def main(argv: list[str]) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m hardware.gsm.emulator", description="GSM modem emulator")
    parser.add_argument("--pty", action="store_true", required=True, help="serve on a new pty, print its path")
    parser.add_argument("--pin", help="SIM PIN to ask for (none by default)")
    parser.add_argument("--auto-reports", type=float, metavar="SECONDS",
                        help="send the requested status reports by themselves after SECONDS")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

