"""An emulated telephone exchange and line for the fax modem emulators (no audio: carriers as bytes).

    exchange = Exchange(timescale=0.05)
    a = exchange.port("100"); b = exchange.port("200")
    call = await a.dial("200")           # b.on_ring fires; b calls await b.answer()
    burst = call.end_of(a).transmit(Carrier.V21)   # V.21 HDLC frames or a high-speed page carrier
    burst.write(b"..."); burst.close()
    got = await call.end_of(b).listen({Carrier.V21}, timeout=3)

A carrier ("burst") carries V.21 frames (each with its FCS verdict) or high-speed page octets, with
a configurable bit-error rate on page data.  The line is half duplex as a fax modem is: starting to
transmit discards carriers that already ended unheard.  Faults: busy, no answer, unknown number,
carrier cut after N page octets, bit errors.  `timescale` shrinks the modem timings (1.0 = real).
"""
from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.fax_modem.t30.errors import FrameError
from hardware.fax_modem.t30.frames import decode_frame

log = logging.getLogger(__name__)


class Carrier(enum.IntEnum):
    """Modulations as T.31 <MOD> codes; V.17 short-train codes map to their long-train twin."""

    V21 = 3
    V27_2400 = 24
    V27_4800 = 48
    V29_7200 = 72
    V17_7200 = 73
    V29_9600 = 96
    V17_9600 = 97
    V17_12000 = 121
    V17_14400 = 145

    @classmethod
    def of(cls, code: int) -> Carrier:
        """The carrier of a +FTM/+FRM/+FTH/+FRH <MOD> value; ValueError if unknown."""
        return cls({74: 73, 98: 97, 122: 121, 146: 145}.get(code, code))

    @property
    def bit_rate(self) -> int:
        """Bits per second."""
        return 300 if self is Carrier.V21 else {24: 2400, 48: 4800, 72: 7200, 73: 7200, 96: 9600, 97: 9600,
                                                  121: 12000, 145: 14400}[int(self)]


@dataclass(frozen=True)
class HdlcFrame:
    """One V.21 frame on the line: its octets (DTE order, no FCS) and whether the FCS checked out."""

    data: bytes
    fcs_ok: bool = True


class Hangup(Exception):
    """The call ended (the other side hung up, or the line was cut)."""


@dataclass
class Faults:
    """What goes wrong on a port's calls (set by tests, read by the line)."""

    busy: bool = False
    no_answer: bool = False
    ber: float = 0.0  # bit-error rate on page data (high-speed carriers)
    frame_error_rate: float = 0.0  # probability that a V.21 frame arrives with a bad FCS
    cut_after_octets: int | None = None  # cut the line once this many page octets went out from this port
    seed: int = 1


class Burst:
    """One carrier from one end: frames (V.21) or octets (page data), then its end."""

    def __init__(self, carrier: Carrier, line: _Direction) -> None:
        self.carrier = carrier
        self.items: asyncio.Queue[bytes | HdlcFrame | None] = asyncio.Queue()
        self.ended = False
        self.heard = False
        self._line = line

    def write(self, item: bytes | HdlcFrame) -> None:
        """Send octets (page carrier) or a frame (V.21)."""
        if self.ended:
            return
        if isinstance(item, HdlcFrame):
            self._line.port.transcript.append(f"> {_frame_name(item.data)}")
        elif not self.items.qsize():
            self._line.port.transcript.append(f"> carrier {int(self.carrier)}")
        self.items.put_nowait(self._line.distort(item))

    def close(self) -> None:
        """Drop the carrier."""
        if not self.ended:
            self.ended = True
            self.items.put_nowait(None)
            self._line.changed()

    async def read(self) -> bytes | HdlcFrame | None:
        """The next item, or None when the carrier dropped."""
        return await self.items.get()


class _Direction:
    """Carriers going one way over a call."""

    def __init__(self, call: Call, port: Port) -> None:
        self.call = call
        self.port = port
        self.faults = port.faults
        self.bursts: list[Burst] = []
        self.sent_octets = 0
        self._rng = random.Random(self.faults.seed)
        self._next_error = self._gap()
        self._changed = asyncio.Event()

    def _gap(self) -> float:
        return self._rng.expovariate(self.faults.ber) if self.faults.ber > 0 else float("inf")

    def changed(self) -> None:
        self._changed.set()

    def distort(self, item: bytes | HdlcFrame) -> bytes | HdlcFrame:
        if isinstance(item, HdlcFrame):
            if self.faults.frame_error_rate and self._rng.random() < self.faults.frame_error_rate:
                return HdlcFrame(item.data, False)
            return item
        data = bytearray(item)
        bits = len(data) * 8
        position = 0.0
        while self._next_error < bits - position:
            position += self._next_error
            index = int(position)
            data[index // 8] ^= 1 << (index % 8)
            position += 1
            self._next_error = self._gap()
        self._next_error -= bits - position
        cut = self.faults.cut_after_octets
        self.sent_octets += len(data)
        if cut is not None and self.sent_octets >= cut:
            keep = max(0, len(data) - (self.sent_octets - cut))
            asyncio.get_running_loop().call_soon(self.call.cut, "carrier lost (fault injected)")
            return bytes(data[:keep])
        return bytes(data)

    def start(self, carrier: Carrier) -> Burst:
        burst = Burst(carrier, self)
        self.bursts.append(burst)
        self.changed()
        return burst

    def drop_ended(self) -> None:
        """Half duplex: carriers that ended while we were not listening are gone."""
        self.bursts = [b for b in self.bursts if not b.ended or b.heard]

    async def wait_change(self, timeout: float) -> None:
        self._changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


@dataclass
class Heard:
    """The result of `LineEnd.listen`: a carrier to read, or a different one (T.31 +FCERROR)."""

    burst: Burst
    matches: bool


class LineEnd:
    """One side of a call: transmit carriers, listen for the other side's."""

    def __init__(self, call: Call, outgoing: _Direction, incoming: _Direction) -> None:
        self.call = call
        self._out = outgoing
        self._in = incoming
        self._sending: Burst | None = None

    @property
    def timescale(self) -> float:
        """The exchange's timing factor."""
        return self.call.exchange.timescale

    def transmit(self, carrier: Carrier) -> Burst:
        """Raise a carrier; Hangup if the call is over."""
        if self.call.ended:
            raise Hangup(self.call.reason)
        self._in.drop_ended()
        if self._sending is not None:
            self._sending.close()
        self._sending = self._out.start(carrier)
        return self._sending

    async def listen(self, wanted: set[Carrier], timeout: float) -> Heard | None:
        """The next carrier from the other side (None on timeout); Hangup if the call ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.call.ended:
                raise Hangup(self.call.reason)
            unheard = [b for b in self._in.bursts if not b.heard]
            if unheard:
                burst = unheard[0]
                if burst.carrier in wanted:
                    burst.heard = True
                    self._in.bursts.remove(burst)
                    return Heard(burst, True)
                return Heard(burst, False)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await self._in.wait_change(min(remaining, 0.5))

    def skip(self, burst: Burst) -> None:
        """Forget a carrier we heard but could not use."""
        burst.heard = True
        with contextlib.suppress(ValueError):
            self._in.bursts.remove(burst)

    async def silence(self, seconds: float) -> None:
        """Wait until the other side has no carrier up, then for `seconds` more (T.31 +FRS)."""
        while not self.call.ended and any(not b.ended for b in self._in.bursts):
            await self._in.wait_change(0.2)
        await asyncio.sleep(seconds)

    def hang_up(self) -> None:
        """End the call from this side."""
        self.call.cut("remote hung up")


class Call:
    """A connected call between two ports."""

    def __init__(self, exchange: Exchange, caller: Port, callee: Port) -> None:
        self.exchange = exchange
        self.caller = caller
        self.callee = callee
        self.ended = False
        self.reason = ""
        forward = _Direction(self, caller)
        backward = _Direction(self, callee)
        self.ends = {id(caller): LineEnd(self, forward, backward), id(callee): LineEnd(self, backward, forward)}
        self.answered = asyncio.get_running_loop().create_future()

    def end_of(self, port: Port) -> LineEnd:
        """This port's side of the call."""
        return self.ends[id(port)]

    def cut(self, reason: str) -> None:
        """End the call for both sides."""
        if self.ended:
            return
        self.ended, self.reason = True, reason
        log.debug("call %s -> %s ended: %s", self.caller.number, self.callee.number, reason)
        for end in self.ends.values():
            end._in.changed()
            end._out.changed()
        if not self.answered.done():
            self.answered.set_result(False)
        for port in (self.caller, self.callee):
            if port.call is self:
                port.call = None
                port.notify_hangup(reason)


class DialResult(enum.Enum):
    """How a dial attempt ended (the modem turns these into result codes)."""

    CONNECTED = "CONNECT"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    NO_CARRIER = "NO CARRIER"


@dataclass
class Port:
    """A telephone line plugged into a modem: a number, its faults, ring and hang-up callbacks."""

    exchange: Exchange
    number: str
    faults: Faults = field(default_factory=Faults)
    call: Call | None = None
    on_ring: Callable[[], None] | None = None
    on_hangup: Callable[[str], None] | None = None
    transcript: list[str] = field(default_factory=list)  # what this port put on the line: frames, carriers
    _ringing: Call | None = None

    async def dial(self, number: str, timeout: float = 60.0) -> tuple[DialResult, Call | None]:
        """Call `number`; returns when it answers, is busy, or does not answer."""
        return await self.exchange.connect(self, number, timeout)

    @property
    def ringing(self) -> bool:
        """True while a call is offered and not answered."""
        return self._ringing is not None and not self._ringing.ended

    def answer(self) -> Call | None:
        """Take the ringing call; None if nothing rings."""
        call = self._ringing
        if call is None or call.ended:
            return None
        self._ringing = None
        self.call = call
        if not call.answered.done():
            call.answered.set_result(True)
        return call

    def hang_up(self) -> None:
        """Put the receiver down (ends a call in progress)."""
        if self.call is not None:
            self.call.cut(f"{self.number} hung up")
        self.call = None

    def notify_hangup(self, reason: str) -> None:
        if self.on_hangup is not None:
            self.on_hangup(reason)


def _frame_name(data: bytes) -> str:
    """The T.30 name of a frame (DCS, MCF ...), or its hex when it does not decode."""
    try:
        return decode_frame(data).fcf.name
    except FrameError:
        return data.hex()


class Exchange:
    """The telephone network joining emulated modems by number."""

    RING_INTERVAL = 6.0  # seconds between rings (ETSI ES 201 970 cadence, roughly)

    def __init__(self, timescale: float = 1.0, max_rings: int = 8) -> None:
        self.timescale = timescale
        self.max_rings = max_rings
        self.ports: dict[str, Port] = {}

    def port(self, number: str, faults: Faults | None = None) -> Port:
        """The port for `number` (created on first use)."""
        if number not in self.ports:
            self.ports[number] = Port(self, number, faults or Faults())
        elif faults is not None:
            self.ports[number].faults = faults
        return self.ports[number]

    async def connect(self, caller: Port, number: str, timeout: float) -> tuple[DialResult, Call | None]:
        """Ring `number` from `caller` until it answers, is busy, or `timeout` / max rings pass."""
        callee = self.ports.get("".join(ch for ch in number if ch.isdigit() or ch in "*#+"))
        await asyncio.sleep(1.0 * self.timescale)  # dialling and exchange set-up
        if callee is None:
            return DialResult.NO_CARRIER, None
        if callee.faults.busy or callee.call is not None or callee.ringing or callee is caller:
            return DialResult.BUSY, None
        call = Call(self, caller, callee)
        callee._ringing = call
        caller.call = call
        try:
            for _ in range(self.max_rings):
                if callee.on_ring is not None and not callee.faults.no_answer:
                    callee.on_ring()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(call.answered), self.RING_INTERVAL * self.timescale)
                if call.answered.done():
                    break
            if not call.answered.done():
                call.cut("no answer")
                return DialResult.NO_ANSWER, None
            if call.ended or not call.answered.result():
                return DialResult.NO_CARRIER, None
            return DialResult.CONNECTED, call
        finally:
            if callee._ringing is call:
                callee._ringing = None
