"""The V.250 side of the emulated fax modems: command-line parsing, result codes, identity, dial/answer.

The fax classes (T.31 Class 1, T.32 / EIA-592 Class 2.0 and SP-2388 Class 2) are mixins in
`emulator_class1` and `emulator_class2`; `emulator.FaxModemEmulator` joins them.  Answers follow
what USRobotics / Multitech class 1/2.0 modems print, since efax and mgetty test for them.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass

from hardware.fax_modem.t30.line import Call, DialResult, Exchange, Faults, LineEnd

log = logging.getLogger(__name__)

OK, ERROR = "OK", "ERROR"
_TOKEN = re.compile(
    r"""(?P<ext>[+$%][A-Z0-9.]+(?:=\?|\?|=(?:"[^"]*"|[^;"])*)?;?)    # +FCLASS=2.0, +FLID="x", +FTM=?
      |(?P<s>S\d+(?:=\d*|\?))                                       # S0=1, S7?
      |(?P<amp>&[A-Z]\d*)                                           # &F, &K3
      |(?P<dial>D.*)                                                # dial: the rest of the line
      |(?P<basic>[A-Z]\d*)                                          # E0, V1, Z, I3, A, H0
    """, re.VERBOSE | re.IGNORECASE)


@dataclass
class Command:
    """One command from a command line: its name ('+FCLASS', 'E', 'D', 'S7') and its argument text."""

    name: str
    op: str  # '' | '=' | '?' | '=?'
    arg: str


class CommandLineError(ValueError):
    """A command line the emulated modem rejects with ERROR."""


def parse_command_line(line: str) -> list[Command]:
    """Split 'ATE0V1+FCLASS=1;+FTM=?' into commands (V.250 §5.2-5.4)."""
    text = line.strip()
    if text[:2].upper() != "AT":
        raise CommandLineError(f"not a command line: {line!r}")
    body = text[2:]
    commands: list[Command] = []
    pos = 0
    while pos < len(body):
        if body[pos] in " ;":
            pos += 1
            continue
        match = _TOKEN.match(body, pos)
        if match is None:
            raise CommandLineError(f"cannot parse {body[pos:]!r}")
        token = match.group(0).rstrip(";")
        pos = match.end()
        kind = match.lastgroup
        if kind == "dial":
            commands.append(Command("D", "", token[1:].strip()))
        elif kind == "s":
            number, _, value = token[1:].partition("=")
            if token.endswith("?"):
                commands.append(Command(f"S{int(number.rstrip('?'))}", "?", ""))
            else:
                commands.append(Command(f"S{int(number)}", "=", value))
        elif kind == "ext":
            head = re.match(r"([+$%][A-Z0-9.]+?)(=\?|\?|=|$)", token, re.IGNORECASE)
            assert head is not None
            name, op = head.group(1).upper(), head.group(2)
            commands.append(Command(name, op, token[head.end():] if op == "=" else ""))
        else:
            commands.append(Command(token[0].upper() if kind == "basic" else token[:2].upper(), "",
                                    token[1:] if kind == "basic" else token[2:]))
    return commands


class ModemBase:
    """A modem on a pty or emu:// socket, plugged into an `Exchange` line with a phone number."""

    manufacturer = "Appliance"
    model = "Virtual Fax Modem 14400"
    revision = "1.0"
    fclasses = ("0", "1")  # emulator_class2.Class2Mixin adds "2" and "2.0"

    def __init__(self, exchange: Exchange, number: str, *, local_id: str = "", faults: Faults | None = None,
                 classes: tuple[str, ...] | None = None) -> None:
        self.exchange = exchange
        self.number = number
        self.port = exchange.port(number, faults)
        self.port.on_ring = self._on_ring
        self.port.on_hangup = self._on_hangup
        if classes is not None:
            self.fclasses = classes
        self.local_id = local_id
        self.log: list[str] = []  # command lines received, for tests and debugging
        self._writer: asyncio.StreamWriter | None = None
        self._input = bytearray()
        self._input_event = asyncio.Event()
        self._eof = False
        self._auto_answer = False
        self.call: Call | None = None
        self.end: LineEnd | None = None
        self.reset()

    # --- settings ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """ATZ / AT&F: factory settings (echo on, verbose, fax class 0, no auto-answer)."""
        self.echo = True
        self.verbose = True
        self.quiet = False
        self.fclass = "0"
        self.registers = {0: 0, 1: 0, 7: 50, 10: 14}
        self.rings = 0

    def scaled(self, seconds: float) -> float:
        """A modem timing on this exchange's time scale."""
        return seconds * self.exchange.timescale

    # --- I/O --------------------------------------------------------------------------------------
    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Talk to one DTE until it goes away (emu:// and pty both call this)."""
        self._writer = writer
        self._input.clear()
        self._eof = False
        pump = asyncio.create_task(self._pump(reader))
        try:
            while True:
                line = await self.read_line()
                if line is None:
                    break
                if line.strip():
                    await self.run_line(line)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            self.hang_up()
            self._writer = None

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                self._input += chunk
                self._input_event.set()
        except (OSError, ConnectionError):
            pass
        finally:
            self._eof = True
            self._input_event.set()

    async def _wait_input(self, timeout: float | None) -> bool:
        self._input_event.clear()
        if self._input or self._eof or self._auto_answer:
            return True
        try:
            await asyncio.wait_for(self._input_event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def read_line(self) -> str | None:
        """The next command line (echoed when E1); None when the DTE went away."""
        while True:
            if self._auto_answer:
                self._auto_answer = False  # S0 rings reached: answer as if the DTE had sent ATA
                if self.port.ringing:
                    return "ATA"
            # Some DTEs send bare LF or CR LF: take CR as the end (V.250 S3) and drop a leading LF.
            while self._input[:1] in (b"\n", b"\x00", b"\x11", b"\x13", b"\x18", b"\x12", b"\x10", b"\x03"):
                del self._input[:1]
            end = self._input.find(b"\r")
            if end >= 0:
                raw = bytes(self._input[:end])
                del self._input[:end + 1]
                text = raw.decode("latin-1").lstrip("\n")
                if self.echo:
                    self.send(raw + b"\r")
                return text
            if self._eof:
                return None
            if self._input:
                log.debug("modem %s: partial command line %r, waiting for CR", self.number, bytes(self._input[:40]))
            # Wait for *new* input: bytes without a CR are already here, and waiting on them would spin
            # the event loop without ever yielding (no await suspends while input is non-empty).
            self._input_event.clear()
            if not self._auto_answer:
                await self._input_event.wait()

    async def read_data(self, timeout: float | None = None) -> bytes:
        """Whatever the DTE sent (at least one octet) or b'' on timeout / end."""
        if not self._input:
            await self._wait_input(timeout)
        data = bytes(self._input)
        self._input.clear()
        return data

    def pending_input(self) -> bool:
        """True if the DTE sent something we have not read (T.31: a character aborts +FRM/+FRH)."""
        return bool(self._input)

    def take_input(self) -> bytes:
        """Read and clear whatever is buffered."""
        data = bytes(self._input)
        self._input.clear()
        return data

    def send(self, data: bytes) -> None:
        """Write to the DTE (dropped if none is connected)."""
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    def result(self, text: str) -> None:
        """A result code or information line in verbose format (V.250 §5.7.1)."""
        if not self.quiet:
            self.send(b"\r\n" + text.encode("latin-1") + b"\r\n")

    async def drain(self) -> None:
        """Wait until written data left (so timing towards the DTE stays honest)."""
        if self._writer is not None:
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.drain()

    # --- command execution ----------------------------------------------------------------------
    async def run_line(self, line: str) -> None:
        """Execute one command line and print its final result code."""
        self.log.append(line)
        try:
            commands = parse_command_line(line)
        except CommandLineError:
            self.result(ERROR)
            return
        for command in commands:
            try:
                final = await self.execute(command)
            except CommandLineError:
                final = ERROR
            if final is None:
                return  # a data command printed its own result codes
            if final != OK:
                self.result(final)
                return
        self.result(OK)

    async def execute(self, cmd: Command) -> str | None:
        """Run one command; returns OK/ERROR, another final code, or None if it printed its own."""
        name = cmd.name
        if name in ("Z", "&F"):
            self.reset()
            return OK
        if name == "E":
            self.echo = cmd.arg != "0"
            return OK
        if name == "V":
            self.verbose = cmd.arg != "0"
            return OK
        if name == "Q":
            self.quiet = cmd.arg not in ("", "0")
            return OK
        if name == "I":
            self.result(self.identify(int(cmd.arg or 0)))
            return OK
        if name.startswith("S") and name[1:].isdigit():
            reg = int(name[1:])
            if cmd.op == "?":
                self.result(f"{self.registers.get(reg, 0):03d}")
            else:
                self.registers[reg] = int(cmd.arg or 0)
            return OK
        if name == "H":
            self.hang_up()
            return OK
        if name == "D":
            return await self.dial(cmd.arg)
        if name == "A":
            return await self.answer()
        if name in ("+FCLASS", "+FCLASS"):
            return self.set_class(cmd)
        if name in ("+FMFR", "+FMI", "+GMI"):
            self.result(self.manufacturer)
            return OK
        if name in ("+FMDL", "+FMM", "+GMM"):
            self.result(self.model)
            return OK
        if name in ("+FREV", "+FMR", "+GMR"):
            self.result(self.revision)
            return OK
        if name.startswith("+F"):
            return await self.fax_command(cmd)
        if len(name) <= 2 or name.startswith("&"):
            return OK  # M, L, X, &C, &D, &K ...: accepted and ignored, as any modem does
        return ERROR

    def identify(self, n: int) -> str:
        """ATIn answers (USR style: I0 product code, I3 name)."""
        return {0: "14400", 3: f"{self.manufacturer} {self.model}", 4: self.revision}.get(n, "14400")

    def set_class(self, cmd: Command) -> str:
        if cmd.op == "=?":
            self.result(",".join(self.fclasses))
            return OK
        if cmd.op == "?":
            self.result(self.fclass)
            return OK
        value = cmd.arg.strip()
        if value == "2.0" or value in self.fclasses:
            if value not in self.fclasses:
                return ERROR
            self.fclass = value
            return OK
        return ERROR

    async def fax_command(self, cmd: Command) -> str | None:
        """+F commands of the current class (mixins override)."""
        return ERROR

    # --- calls ---------------------------------------------------------------------------------------
    def _on_ring(self) -> None:
        self.rings += 1
        self.result("RING")
        auto = self.registers.get(0, 0)
        if auto and self.rings >= auto and self._writer is not None:
            self._auto_answer = True  # the serve loop picks this up, so only it reads the DTE
            self._input_event.set()

    def _on_hangup(self, reason: str) -> None:
        log.debug("modem %s: call ended (%s)", self.number, reason)

    def hang_up(self) -> None:
        """On-hook: end any call."""
        self.port.hang_up()
        self.call = None
        self.end = None
        self.rings = 0

    async def dial(self, number: str) -> str | None:
        """ATD: ring the number; the class handler takes over when it answers."""
        digits = number.upper().lstrip("TP").rstrip(";")
        outcome, call = await self.port.dial(digits)
        if outcome is not DialResult.CONNECTED or call is None:
            return outcome.value
        self.call, self.end = call, call.end_of(self.port)
        return await self.connected(calling=True)

    async def answer(self) -> str | None:
        """ATA: take the ringing call; the class handler takes over."""
        call = self.port.answer()
        if call is None:
            await asyncio.sleep(self.scaled(2))
            return "NO CARRIER"
        self.call, self.end = call, call.end_of(self.port)
        self.rings = 0
        return await self.connected(calling=False)

    async def connected(self, calling: bool) -> str | None:
        """The call is up (class handlers override); class 0 has no data modem here."""
        self.hang_up()
        return "NO CARRIER"
