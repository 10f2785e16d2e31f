"""Class 1 (ITU-T T.31) for the emulated modem: +FTH/+FRH/+FTM/+FRM/+FTS/+FRS over the emulated line.

The DTE runs T.30 itself; this modem only moves HDLC frames and page octets and keeps T.31's
result codes: CONNECT when a carrier is up, OK after a final frame or page, ERROR for a bad FCS,
NO CARRIER when the carrier drops, +FCERROR when another modulation is heard (T.31 §8.3.1).
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from hardware.fax_modem.t30.emulator_at import ERROR, OK, Command, ModemBase
from hardware.fax_modem.t30.frames import CONTROL_FINAL
from hardware.fax_modem.t30.hdlc import DLE_ETX, DleDecoder, dle_encode, fcs
from hardware.fax_modem.t30.line import Burst, Carrier, Hangup, HdlcFrame

MOD_LIST = "24,48,72,73,74,96,97,98,121,122,145,146"
V21_PREAMBLE = 1.0  # T.30 §5.3.1: one second of flags before the first frame
CED_SECONDS = 3.0  # T.30 §4.2.2.1: the answering tone, 2.6-4 s
TRAINING = {Carrier.V27_2400: 0.95, Carrier.V27_4800: 0.7, Carrier.V29_7200: 0.25, Carrier.V29_9600: 0.25}
V17_LONG_TRAIN = 1.4
DTE_DATA_TIMEOUT = 10.0  # real seconds without data from the DTE before we drop the carrier
RECEIVE_TIMEOUT = 30.0  # +FRH/+FRM: give up listening (NO CARRIER) after this long (scaled)
# A real page takes well over a second on the line (a blank A4 page is ~1.3 s at 14400 bit/s), and
# efax divides by the whole seconds a page took: never confirm a page faster than this, scaled or not.
MIN_PAGE_SECONDS = 1.05
PAGE_OCTETS = 4096  # carriers longer than this are pages (TCF at 14400 bit/s is 2700 octets)


class Class1Mixin(ModemBase):
    """T.31 service class 1 commands."""

    def reset(self) -> None:
        """Factory settings plus no carrier being received."""
        super().reset()
        self._rx_burst: Burst | None = None
        self.fcs_to_dte = True  # most modems pass the two FCS octets on (efax and we both cope)

    async def fax_command(self, cmd: Command) -> str | None:
        """Dispatch +F commands while +FCLASS=1."""
        if self.fclass not in ("1", "1.0"):
            return await super().fax_command(cmd)
        name = cmd.name
        if name in ("+FTH", "+FRH", "+FTM", "+FRM"):
            if cmd.op == "=?":
                self.result("3" if name in ("+FTH", "+FRH") else MOD_LIST)
                return OK
            try:
                mod = int(cmd.arg)
                carrier = Carrier.of(mod)
            except ValueError:
                return ERROR
            if (name in ("+FTH", "+FRH")) != (carrier is Carrier.V21):
                return ERROR
            if self.end is None:
                return ERROR
            return await self._guard(getattr(self, f"_{name[1:].lower()}")(carrier))
        if name == "+FTS" and cmd.op == "=":
            await asyncio.sleep(self.scaled(int(cmd.arg or 0) / 100))
            return OK
        if name == "+FRS" and cmd.op == "=":
            if self.end is not None:
                with contextlib.suppress(Hangup):
                    await self.end.silence(self.scaled(int(cmd.arg or 0) / 100))
            return OK
        if name in ("+FAR", "+FCL", "+FIT", "+FDD", "+FPR", "+FLO", "+FMI", "+FMM", "+FMR"):
            return OK
        return ERROR

    async def _guard(self, action: Any) -> str | None:
        try:
            return await action
        except Hangup:
            self.hang_up()
            return "NO CARRIER"

    async def connected(self, calling: bool) -> str | None:
        """After ATD the modem listens for V.21 (like +FRH=3); after ATA it sends CED, then +FTH=3."""
        if self.fclass not in ("1", "1.0"):
            return await super().connected(calling)
        if calling:
            return await self._guard(self._frh(Carrier.V21, timeout=self.scaled(40)))
        await asyncio.sleep(self.scaled(CED_SECONDS))
        return await self._guard(self._fth(Carrier.V21))

    async def _fth(self, carrier: Carrier) -> str | None:
        assert self.end is not None
        burst = self.end.transmit(carrier)
        await asyncio.sleep(self.scaled(V21_PREAMBLE))
        while True:
            self.result("CONNECT")
            frame, tail = await self._read_dle_block()
            if frame is None:
                burst.close()
                self.hang_up()
                return None  # the DTE stopped talking mid-frame: nothing sensible to answer
            if frame:
                burst.write(HdlcFrame(frame))
                await asyncio.sleep(self.scaled((len(frame) + 4) * 8 / 300))
            self._push_back(tail)
            if not frame or len(frame) < 2 or frame[1] == CONTROL_FINAL:
                burst.close()
                return OK

    async def _ftm(self, carrier: Carrier) -> str | None:
        assert self.end is not None
        burst = self.end.transmit(carrier)
        train = V17_LONG_TRAIN if carrier in (Carrier.V17_7200, Carrier.V17_9600, Carrier.V17_12000,
                                              Carrier.V17_14400) else TRAINING.get(carrier, 0.25)
        await asyncio.sleep(self.scaled(train))
        self.result("CONNECT")
        loop = asyncio.get_running_loop()
        started = loop.time()
        decoder = DleDecoder()
        total = 0
        while not decoder.done:
            chunk = await self.read_data(DTE_DATA_TIMEOUT)
            if not chunk:
                break  # underrun for too long: the modem drops the carrier
            data = decoder.feed(chunk)
            if not total and data:
                started = loop.time()  # airtime runs from the first octet, not from CONNECT
            total += len(data)
            if data:
                burst.write(data)
            if self.call is None or self.call.ended:
                raise Hangup("line cut")
        self._push_back(decoder.tail)
        airtime = self.scaled(total * 8 / carrier.bit_rate)
        if total > PAGE_OCTETS:
            airtime = max(airtime, MIN_PAGE_SECONDS)
        airtime -= loop.time() - started
        if airtime > 0:
            await asyncio.sleep(airtime)
        burst.close()
        if self.call is None or self.call.ended:
            raise Hangup("line cut")
        return OK

    async def _frh(self, carrier: Carrier, timeout: float | None = None) -> str | None:
        assert self.end is not None
        burst = self._rx_burst
        if burst is None:
            heard = await self._listen({Carrier.V21}, timeout)
            if isinstance(heard, str):
                return heard
            burst = self._rx_burst = heard
        item = await self._next_item(burst)
        if item == "abort":
            self._rx_burst = None
            return OK
        if not isinstance(item, HdlcFrame):
            self._rx_burst = None
            return "NO CARRIER"
        self.result("CONNECT")
        payload = item.data + (fcs(item.data) if self.fcs_to_dte else b"")
        if not item.fcs_ok:
            payload = payload[:-1] + bytes((payload[-1] ^ 0x55,))
        self.send(dle_encode(payload) + DLE_ETX)
        if len(item.data) < 2 or item.data[1] == CONTROL_FINAL:
            self._rx_burst = None
        return OK if item.fcs_ok else ERROR

    async def _frm(self, carrier: Carrier) -> str | None:
        heard = await self._listen({carrier}, None)
        if isinstance(heard, str):
            return heard
        self.result("CONNECT")
        while True:
            item = await self._next_item(heard)
            if item == "abort":
                self.send(DLE_ETX)
                return OK
            if item is None:
                self.send(DLE_ETX)
                return "NO CARRIER"
            if isinstance(item, bytes):
                self.send(dle_encode(item))
                await self.drain()

    async def _listen(self, wanted: set[Carrier], timeout: float | None) -> Burst | str:
        """The carrier to read, or the result code to give (+FCERROR, NO CARRIER, OK on DTE abort)."""
        assert self.end is not None
        self._rx_burst = None if Carrier.V21 not in wanted else self._rx_burst
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self.scaled(RECEIVE_TIMEOUT))
        while loop.time() < deadline:
            if self.pending_input():
                self.take_input()
                return OK  # T.31 §8.3.4: any character from the DTE aborts the receive command
            heard = await self.end.listen(wanted, min(0.1, max(deadline - loop.time(), 0.001)))
            if heard is None:
                continue
            if not heard.matches:
                if heard.burst.carrier is not Carrier.V21 and Carrier.V21 in wanted:
                    # A page carrier while we wait for frames: a real modem hears no flags and keeps waiting.
                    await asyncio.sleep(0.05)
                    if heard.burst.ended:
                        self.end.skip(heard.burst)
                    continue
                return "+FCERROR"
            return heard.burst
        return "NO CARRIER"

    async def _next_item(self, burst: Burst) -> bytes | HdlcFrame | str | None:
        """The burst's next item, or 'abort' if the DTE sent a character first."""
        read = asyncio.ensure_future(burst.read())
        try:
            while True:
                done, _ = await asyncio.wait({read}, timeout=0.05)
                if done:
                    return read.result()
                if self.pending_input():
                    self.take_input()
                    return "abort"
                if self.call is None or self.call.ended:
                    return None
        finally:
            if not read.done():
                read.cancel()

    async def _read_dle_block(self) -> tuple[bytes | None, bytes]:
        decoder = DleDecoder()
        out = bytearray()
        while not decoder.done:
            chunk = await self.read_data(DTE_DATA_TIMEOUT)
            if not chunk:
                return None, b""
            out += decoder.feed(chunk)
        return bytes(out), decoder.tail

    def _push_back(self, data: bytes) -> None:
        if data:
            self._input[:0] = data
            self._input_event.set()
