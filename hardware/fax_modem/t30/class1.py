"""Class 1 fax driver (ITU-T T.31): our T.30 session over a modem's +FTH/+FRH/+FTM/+FRM commands.

Written by hand: no maintained library drives Class 1 modems from asyncio.

    link = Class1Link(channel, pages)          # channel: an AtChannel after AT+FCLASS=1
    finish = await run_session(session, link)

The modem handles flags, zero insertion and FCS; we send address/control/FCF/FIF DLE-coded and end
each frame with <DLE><ETX> (T.31 §8.3.3).  After ATD the modem is already receiving frames, after
ATA already sending them (T.31 §8.3.2.1, §8.3.2.2), so the first +FRH / +FTH is implied.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from hardware.fax_modem.t30.errors import FrameError
from hardware.fax_modem.t30.frames import decode_frame, encode_frame
from hardware.fax_modem.t30.hdlc import CAN, DLE, DLE_ETX, dle_decode, dle_encode, strip_fcs
from hardware.fax_modem.t30.actions import (
    Action, BadFrame, Done, Event, FramesReceived, LinkDown, PageNotStored, PageReceived, PageSent, PageStored,
    PostPage, ReceiveFrames, ReceivePage, ReceiveTcf, SendFrames, SendPage, SendTcf, StorePage, TcfReceived,
    Timeout, WrongCarrier,
)
from hardware.fax_modem.t30.pagedata import code_page
from hardware.fax_modem.t30.reports import PageKeeper, ReceivedPage, keep_page
from hardware.fax_modem.t4_page import Page
from hardware.serial import AtChannel, AtClosed, AtError, AtResponse, AtTimeout

log = logging.getLogger(__name__)

MARGIN = 5.0  # seconds on top of T.30 timers for the modem's own answer
CHUNK = 4096
RTC_TRAILER = 8


class Class1Link:
    """Performs T.30 session actions on a Class 1 modem."""

    def __init__(self, channel: AtChannel, pages: Sequence[Page] = (), *, calling: bool,
                 on_page: Callable[[int], None] | None = None, keeper: PageKeeper | None = None) -> None:
        self.channel = channel
        self.keeper = keeper  # awaited with each good page before its MCF/RTP goes out
        self.pages = list(pages)
        # T.31 §8.3.2: after ATD CONNECT the modem receives frames; after ATA CONNECT it sends them.
        self._implied = "receive" if calling else "send"
        self._on_page = on_page

    async def execute(self, action: Action) -> Event:
        """Do one session action (see `session`)."""
        try:
            if isinstance(action, SendFrames):
                return await self._send_frames(action)
            if isinstance(action, ReceiveFrames):
                return await self._receive_frames(action)
            if isinstance(action, SendTcf):
                await self._transmit(action.mode.class1_mod, bytes(action.length), action.length)
                return Done()
            if isinstance(action, ReceiveTcf):
                return await self._receive_data(action.mode.class1_mod, action.timeout, tcf=True)
            if isinstance(action, SendPage):
                return await self._send_page(action)
            if isinstance(action, ReceivePage):
                if self._on_page is not None:
                    self._on_page(-1)
                return await self._receive_data(action.mode.class1_mod, action.timeout, tcf=False)
            if isinstance(action, StorePage):
                why = await keep_page(self.keeper, action.index, ReceivedPage(action.page, action.status),
                                      action.remote_id)
                return PageNotStored(why) if why else PageStored()
        except AtClosed as exc:
            return LinkDown(str(exc))
        except AtError as exc:
            log.warning("class 1 modem error during %s: %s", type(action).__name__, exc)
            return LinkDown(str(exc))
        raise TypeError(f"not a link action: {action!r}")

    # --- frames ---------------------------------------------------------------------------------
    async def _send_frames(self, action: SendFrames) -> Event:
        ch = self.channel
        if self._implied == "send":
            self._implied = ""
            if not ch.raw_mode:
                await self._expect(await ch.wait_final(10), "CONNECT")
        else:
            self._implied = ""
            # T.30 §5.3.2.4: leave 75 ms ± 20 ms between receiving and sending
            await ch.command("AT+FTS=8", timeout=MARGIN)
            await self._expect(await ch.command("AT+FTH=3", timeout=MARGIN + 3), "CONNECT")
        for frame in action.frames:
            await ch.send_raw(dle_encode(encode_frame(frame)) + DLE_ETX)
            ch.end_raw()
            await self._expect(await ch.wait_final(MARGIN + 5), "OK" if frame.final else "CONNECT")
        return Done()

    async def _receive_frames(self, action: ReceiveFrames) -> Event:
        ch = self.channel
        frames = []
        while True:
            if self._implied == "receive":
                self._implied = ""
            else:
                self._implied = ""
                try:
                    response = await ch.command("AT+FRH=3", timeout=action.timeout + (1 if frames else 0))
                except AtTimeout:
                    await self._abort_receive()
                    return Timeout()
                if response.final == "+FCERROR":
                    return WrongCarrier()
                if response.final == "NO CARRIER" or not response.ok:
                    return Timeout() if not frames else FramesReceived(tuple(frames))
                if response.final == "OK":
                    return Timeout()
            raw = await self._read_block(action.timeout + MARGIN)
            ch.end_raw()
            final = await ch.wait_final(MARGIN)
            if final.final != "OK":
                return BadFrame()  # T.31 §8.3.4: ERROR after <DLE><ETX> means a bad FCS
            try:
                frame = decode_frame(strip_fcs(dle_decode(raw)))
            except FrameError as exc:
                log.warning("undecodable frame %s: %s", raw.hex(), exc)
                return BadFrame()
            frames.append(frame)
            if frame.final:
                return FramesReceived(tuple(frames))

    async def _abort_receive(self) -> None:
        """T.31 §8.3.4: any character cancels +FRH/+FRM; the modem answers OK."""
        ch = self.channel
        try:
            ch.end_raw()
            await ch.send_raw(bytes((CAN,)))
            await ch.wait_final(MARGIN)
        except AtTimeout:
            log.warning("modem did not confirm the receive abort")

    # --- high-speed data ----------------------------------------------------------------------------
    async def _transmit(self, mod: int, data: bytes, octets: int) -> None:
        ch = self.channel
        await self._expect(await ch.command(f"AT+FTM={mod}", timeout=MARGIN + 3), "CONNECT")
        coded = dle_encode(data)
        for start in range(0, len(coded), CHUNK):
            await ch.send_raw(coded[start:start + CHUNK])
        await ch.send_raw(DLE_ETX)
        ch.end_raw()
        rate = {24: 2400, 48: 4800, 72: 7200, 73: 7200, 96: 9600, 97: 9600, 121: 12000, 145: 14400}.get(mod, 2400)
        await self._expect(await ch.wait_final(octets * 8 / rate * 2 + MARGIN * 2), "OK")

    async def _send_page(self, action: SendPage) -> Event:
        if self._on_page is not None:
            self._on_page(action.index)
        # Trailing zero octets after RTC: decoders that read ahead (efax reads 15 bits at a time) must
        # not hit <DLE><ETX> while still inside RTC, or they take the page as cut short.
        data = code_page(self.pages[action.index], action.mode) + bytes(RTC_TRAILER)
        await self._transmit(action.mode.class1_mod, data, len(data))
        last = action.index >= len(self.pages) - 1
        return PageSent(PostPage.EOP if last else PostPage.MPS)

    async def _receive_data(self, mod: int, timeout: float, *, tcf: bool) -> Event:
        ch = self.channel
        try:
            response = await ch.command(f"AT+FRM={mod}", timeout=timeout + MARGIN)
        except AtTimeout:
            await self._abort_receive()
            return Timeout()
        if response.final == "+FCERROR":
            return WrongCarrier()
        if response.final != "CONNECT":
            return Timeout()
        raw = await self._read_block(600.0)
        ch.end_raw()
        try:
            await ch.wait_final(MARGIN)  # NO CARRIER: the carrier dropped at the end of the data
        except AtTimeout:
            log.warning("no result code after the received data")
        data = dle_decode(raw)
        return TcfReceived(data) if tcf else PageReceived(data)

    async def _read_block(self, timeout: float) -> bytes:
        """Raw bytes up to and including the <DLE><ETX> that ends a DLE-coded block."""
        out = bytearray()
        while True:
            out += await self.channel.read_raw(until=DLE_ETX, timeout=timeout)
            # A doubled DLE before 03 is data: count the DLEs in front of ETX (odd = terminator).
            run = 0
            index = len(out) - 2
            while index >= 0 and out[index] == DLE:
                run += 1
                index -= 1
            if run % 2 == 1:
                return bytes(out)

    @staticmethod
    async def _expect(response: AtResponse, want: str) -> AtResponse:
        if response.final.split(" ")[0] != want:
            raise AtError(f"expected {want}, modem said {response.final!r} to {response.command!r}")
        return response
