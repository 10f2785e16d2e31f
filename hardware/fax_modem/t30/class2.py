"""Class 2 (SP-2388 / EIA-592 draft) and Class 2.0 (ITU-T T.32) fax driver: the modem runs T.30 itself.

Written by hand: no maintained library drives service class 2 modems from asyncio.

    driver = Class2Driver(channel, Dialect.CLASS20, local_id="+49 30 1234", caps=Capabilities())
    await driver.setup()                         # after AT+FCLASS=2.0: +FLI, +FCC, +FBO, +FNR, +FLO
    report = await driver.send("5551234", pages)  # ATD, then per page +FDT ... <DLE><ppm> (2.0) or +FET (2)
    fax = await driver.answer(keeper)             # ATA, then +FDR per page until +FHS/+FHNG

We code and decode the T.4 data ourselves (`pagedata`), in the mode the modem reports with +FDCS /
+FCS.  Page data crosses the port DLE-coded; flow control is XON/XOFF (the modem's DC3/DC1 seen in
software, so emu:// and ptys work too) or RTS/CTS when the port was opened with rtscts=1.
Rockwell-style Class 2 modems hand received data over bit-reversed while +FBOR=0 (efax and mgetty
compensate the same way); Multi-Tech modems do not, and the decoder falls back to the other order
when a page does not decode in the expected one.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hardware.fax_modem.t30.caps import Capabilities, Mode
from hardware.fax_modem.t30.class2_codes import (
    COMMANDS, DLE_OF_POST_PAGE, FET_OF_POST_PAGE, POST_PAGE_OF_FET, WIDTHS, Dialect, T30Params, hangup_text,
    mode_of_params, params_of_caps, parse_hangup, parse_page_status, parse_params, parse_station_id,
)
from hardware.fax_modem.t30.errors import CallFailed, ModemError, ParamError
from hardware.fax_modem.t30.hdlc import CAN, DC1, DC2, DC3, DLE, DLE_ETX, dle_decode, dle_encode
from hardware.fax_modem.t30.pagedata import CopyQuality, PageStatus, code_page, judge_page
from hardware.fax_modem.t30.reports import (
    LineState, PageKeeper, PageReport, ReceivedFax, ReceivedPage, SendReport, keep_page,
)
from hardware.fax_modem.t30.session import PostPage
from hardware.fax_modem.t4_page import BitOrder, DecodedPage, Page
from hardware.serial import AtChannel, AtError, AtResponse, AtTimeout, Urc

log = logging.getLogger(__name__)

Emit = Callable[[LineState, str], None]
CHUNK = 512  # octets per write: small enough to stop soon after the modem's XOFF
RTC_TRAILER = 8  # zero octets after RTC, as in the Class 1 driver (decoders read ahead)
PHASE_B_TIMEOUT = 120.0  # +FDT: DCS, TCF and CFR, with retrains (efax allows 45 s; slow modems exist)
PAGE_END_TIMEOUT = 120.0  # <DLE><ETX> / <DLE><ppm> / +FET to the post-page response
RECEIVE_TIMEOUT = 90.0  # +FDR to CONNECT (the sender may retrain many times)
XON_WAIT = 5.0  # Class 2: some modems never send the XON after CONNECT; go on after this
MAX_PAGE_TRIES = 3


@dataclass
class _Call:
    """What the modem reported so far in this call."""

    remote_id: str = ""
    remote: T30Params | None = None
    mode: Mode | None = None
    hangup: int | None = None
    page_status: PageStatus | None = None
    counts: tuple[int, ...] = ()
    post_page: PostPage | None = None
    lines: list[str] = field(default_factory=list)


class Class2Driver:
    """Sends and receives through a Class 2 / 2.0 modem (see the module docstring)."""

    def __init__(self, channel: AtChannel, dialect: Dialect, *, local_id: str = "",
                 caps: Capabilities | None = None, quality: CopyQuality | None = None,
                 dial_timeout: float = 90.0, hardware_flow: bool = False, emit: Emit | None = None) -> None:
        self.channel = channel
        self.dialect = dialect
        self.names = COMMANDS[dialect]
        self.local_id = local_id
        self.caps = caps or Capabilities()
        self.quality = quality or CopyQuality()
        self.dial_timeout = dial_timeout
        self.hardware_flow = hardware_flow
        self.emit: Emit = emit or (lambda state, detail: None)
        self.rx_order = BitOrder.MSB_FIRST if dialect is Dialect.CLASS2 else BitOrder.LSB_FIRST
        self.manufacturer = ""
        self._late: list[str] = []
        self._unsubscribe = channel.on_unsolicited(self._unsolicited)

    @property
    def hexadecimal(self) -> bool:
        """T.32 prints numbers in hexadecimal."""
        return self.dialect is Dialect.CLASS20

    def _unsolicited(self, urc: Urc) -> None:
        # Reports that arrive outside a command (just after page data, before we wait for the final)
        if urc.line.startswith("+F"):
            self._late.append(urc.line)

    def close(self) -> None:
        """Stop listening to the channel."""
        self._unsubscribe()

    # --- setup ------------------------------------------------------------------------------------------
    async def setup(self) -> None:
        """Station id, capabilities, bit order, reporting and flow control (after +FCLASS)."""
        ch = self.channel
        query = "AT+FMI?" if self.dialect is Dialect.CLASS20 else "AT+FMFR?"
        response = await ch.command(query, timeout=5)
        self.manufacturer = response.text.strip() if response.ok else ""
        if self.dialect is Dialect.CLASS2 and "multi-tech" in self.manufacturer.lower():
            self.rx_order = BitOrder.LSB_FIRST  # efax's man page: Multi-Tech is the Class 2 modem that does not reverse
        await ch.command(f'AT{self.names.local_id}="{self.local_id[:20]}"', timeout=5, check=True)
        await ch.command("AT+FCR=1", timeout=5)  # we can receive (T.32 +FCR)
        params = params_of_caps(self.caps)
        while (await ch.command(f"AT{self.names.capabilities}={self._format(params)}", timeout=5)).final != "OK":
            if params.br == 0:
                raise ModemError(f"{ch.transport.url}: modem refuses every {self.names.capabilities} setting")
            params = T30Params(params.vr, params.br - 1, params.wd, params.ln, params.df, 0, 0, params.st)
        await ch.command(f"AT{self.names.bit_order}=0", timeout=5, check=True)
        if self.dialect is Dialect.CLASS20:
            await ch.command("AT+FNR=1,1,1,0", timeout=5)  # T.32: report +FCI/+FIS/+FTI/+FCS and +FPS
            await ch.command(f"AT+FLO={2 if self.hardware_flow else 1}", timeout=5)
            await ch.command("AT+FIE=0", timeout=5)  # no procedure interrupts

    def _format(self, params: T30Params) -> str:
        return params.format(hexadecimal=self.hexadecimal)

    # --- parsing reports ---------------------------------------------------------------------------------
    def _absorb(self, call: _Call, response: AtResponse | None = None) -> None:
        """Take the +F reports of a response (and the ones that came loose) into `call`."""
        lines = self._late + (list(response.lines) if response is not None else [])
        self._late = []
        names = self.names
        for line in lines:
            head = line.split(":", 1)[0].strip().upper()
            call.lines.append(line)
            try:
                if head in (names.remote_csi, names.remote_tsi):
                    call.remote_id = parse_station_id(line)
                elif head == names.session:
                    call.remote = parse_params(line, hexadecimal=self.hexadecimal)
                elif head == names.negotiated:
                    call.mode = mode_of_params(parse_params(line, hexadecimal=self.hexadecimal))
                elif head == names.hangup:
                    call.hangup = parse_hangup(line)
                elif head == names.page_status:
                    call.page_status, call.counts = parse_page_status(line, hexadecimal=self.hexadecimal)
                elif head == "+FET":
                    call.post_page = POST_PAGE_OF_FET.get(parse_hangup(line))
            except ParamError as exc:
                log.warning("unreadable report %r from the modem: %s", line, exc)

    # --- sending -------------------------------------------------------------------------------------------
    async def send(self, number: str, pages: Sequence[Page]) -> SendReport:
        """Dial `number` and send `pages`; the modem does phases B and D, we move page data."""
        ch = self.channel
        call = _Call()
        self.emit(LineState.DIALING, number)
        response = await ch.command(f"ATDT{number}", timeout=self.dial_timeout)
        self._absorb(call, response)
        if response.final != "OK" or (call.hangup not in (None, 0)):
            reason = response.final if response.final != "OK" else f"{self.names.hangup}:{call.hangup}"
            raise CallFailed(f"dialling {number}: {reason}", reason)
        self.emit(LineState.CONNECTED, number)
        reports: list[PageReport] = []
        failure = ""
        try:
            await self._send_pages(call, pages, reports)
            if call.hangup is None:
                await self._wait_hangup(call)
        except AtError as exc:  # the modem went away or stopped answering: keep what was confirmed
            failure = f"modem failed: {exc}"
        ok = call.hangup == 0 and len(reports) == len(pages) and all(r.status.good for r in reports)
        reason = "all pages confirmed" if ok else failure or self._reason(call, reports, len(pages))
        return SendReport(ok, number, reason, call.remote_id, reports, call.mode,
                          hangup_code=str(call.hangup) if call.hangup is not None else "")

    async def _send_pages(self, call: _Call, pages: Sequence[Page], reports: list[PageReport]) -> None:
        """Each page until confirmed (a page answered RTN goes again, up to MAX_PAGE_TRIES times)."""
        index, attempts = 0, 0
        while index < len(pages) and call.hangup in (None, 0):
            attempts += 1
            last = index == len(pages) - 1
            status = await self._send_page(call, pages[index], PostPage.EOP if last else PostPage.MPS, index)
            if status is None:
                reports.append(PageReport(index, PageStatus.UNCONFIRMED, attempts))
                return
            if status.good or attempts >= MAX_PAGE_TRIES:
                reports.append(PageReport(index, status, attempts))
                index, attempts = index + 1, 0
                if not status.good:
                    return

    def _reason(self, call: _Call, reports: list[PageReport], total: int) -> str:
        if call.hangup not in (None, 0):
            return f"{self.names.hangup}:{call.hangup} {hangup_text(call.hangup)}"
        bad = [r.index + 1 for r in reports if not r.status.good]
        return f"pages {bad} not confirmed" if bad else f"{total - len(reports)} pages not sent"

    async def _send_page(self, call: _Call, page: Page, ppm: PostPage, index: int) -> PageStatus | None:
        ch = self.channel
        wanted = params_of_caps(self.caps)
        wd = WIDTHS.index(page.width) if page.width in WIDTHS else 0
        fdis = T30Params(int(page.y_dpi > 150 and self.caps.fine), wanted.br, wd, wanted.ln, wanted.df, 0, 0, wanted.st)
        self._absorb(call, await ch.command(f"AT{self.names.session}={self._format(fdis)}", timeout=10))
        response = await ch.command("AT+FDT", timeout=PHASE_B_TIMEOUT)
        self._absorb(call, response)
        if response.final != "CONNECT":
            log.warning("+FDT answered %s (%s)", response.final, call.lines[-3:])
            if call.hangup is None:
                call.hangup = 40
            return None
        mode = call.mode or mode_of_params(fdis)
        self.emit(LineState.PAGE, str(index + 1))
        if self.dialect is Dialect.CLASS2:
            await self._wait_xon()
        data = code_page(page, mode) + bytes(RTC_TRAILER)
        await self._write_flow_controlled(dle_encode(data))
        if self.dialect is Dialect.CLASS20:
            await ch.send_raw(bytes((DLE, DLE_OF_POST_PAGE[ppm])))  # T.32: page end and post-page message in one
            ch.end_raw()
            final = await ch.wait_final(PAGE_END_TIMEOUT)
            self._absorb(call, final)
            if final.final == "OK" and call.hangup is not None:
                return PageStatus.MCF if call.hangup == 0 else None  # +FHS:00 after EOP: confirmed and done
            if final.final == "OK":
                return await self._query_status(call, good=True)
            if final.final == "ERROR" and call.hangup in (None, 0):
                return await self._query_status(call, good=False)
            return None
        await ch.send_raw(DLE_ETX)
        ch.end_raw()
        final = await ch.wait_final(PAGE_END_TIMEOUT)
        self._absorb(call, final)
        if final.final != "OK" or call.hangup not in (None, 0):
            return None
        call.page_status = None
        response = await ch.command(f"AT+FET={FET_OF_POST_PAGE[ppm]}", timeout=PAGE_END_TIMEOUT)
        self._absorb(call, response)
        return call.page_status if call.page_status is not None else (PageStatus.MCF if response.ok else None)

    async def _query_status(self, call: _Call, *, good: bool) -> PageStatus:
        """T.32: OK/ERROR after <DLE><ppm> says good or bad; +FPS? says which response exactly."""
        response = await self.channel.command("AT+FPS?", timeout=5)
        self._absorb(call, response)
        text = response.text.strip()
        if response.ok and text:
            try:
                status, _ = parse_page_status(text if ":" in text else f"+FPS:{text}", hexadecimal=True)
                if status.good == good:
                    return status
            except ParamError:
                pass
        return PageStatus.MCF if good else PageStatus.RTN

    async def _wait_xon(self) -> None:
        """SP-2388: after +FDT's CONNECT the modem sends XON (or DC2) when it wants data."""
        try:
            got = await self.channel.read_raw(until=None, timeout=XON_WAIT)
            while DC1 not in got and DC2 not in got:
                got = await self.channel.read_raw(timeout=XON_WAIT)
        except AtTimeout:
            log.warning("no XON after CONNECT from the Class 2 modem; sending anyway")

    async def _write_flow_controlled(self, coded: bytes) -> None:
        """Write page data in chunks, pausing while the modem has sent XOFF (DC3) and not yet XON (DC1)."""
        ch = self.channel
        stopped = False
        for start in range(0, len(coded), CHUNK):
            stopped = await self._flow_state(stopped)
            while stopped:
                try:
                    got = await ch.read_raw(timeout=30)
                except AtTimeout:
                    raise ModemError("modem sent XOFF and never XON") from None
                stopped = _after(got, stopped)
            await ch.send_raw(coded[start:start + CHUNK])

    async def _flow_state(self, stopped: bool) -> bool:
        """Read whatever flow-control bytes arrived, without waiting."""
        while True:
            try:
                got = await self.channel.read_raw(timeout=0)
            except AtTimeout:
                return stopped
            stopped = _after(got, stopped)

    async def _wait_hangup(self, call: _Call) -> None:
        """After EOP the modem reports +FHNG / +FHS; give it a moment if it came apart from the final."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while call.hangup is None and loop.time() < deadline:
            self._absorb(call)
            if call.hangup is None:
                await asyncio.sleep(0.05)

    # --- receiving -----------------------------------------------------------------------------------------
    async def answer(self, keeper: PageKeeper | None = None) -> ReceivedFax:
        """ATA, then pages with +FDR until the modem reports the hang-up; `keeper` keeps each good page."""
        ch = self.channel
        call = _Call()
        response = await ch.command("ATA", timeout=self.dial_timeout)
        self._absorb(call, response)
        if response.final != "OK" or call.hangup not in (None, 0):
            reason = response.final if response.final != "OK" else f"{self.names.hangup}:{call.hangup}"
            raise CallFailed(f"answering: {reason}", reason)
        self.emit(LineState.CONNECTED, call.remote_id)
        received: list[ReceivedPage] = []
        failure = ""
        try:
            await self._receive_pages(call, received, keeper)
            await self._wait_hangup(call)
        except AtError as exc:  # the modem went away: the pages that arrived are kept
            failure = f"line lost: {exc}"
        ok = call.hangup == 0 and bool(received) and call.post_page is PostPage.EOP
        reason = "all pages received" if ok else failure or (
            f"{self.names.hangup}:{call.hangup} {hangup_text(call.hangup)}" if call.hangup not in (None, 0)
            else "call ended before the last page")
        return ReceivedFax(ok, reason, call.remote_id, received, call.mode,
                           hangup_code=str(call.hangup) if call.hangup is not None else "")

    async def _receive_pages(self, call: _Call, received: list[ReceivedPage], keeper: PageKeeper | None) -> None:
        """+FDR until the modem reports the hang-up; our copy check overrides the modem's (+FPTS=).

        The modem holds the post-page response (MCF, RTN ...) until the next +FDR releases it (SP-2388
        +FDR; T.32 +FDR and +FPS), so a good page is kept by `keeper` before that +FDR goes out.
        """
        ch = self.channel
        while call.hangup is None:
            response = await ch.command("AT+FDR", timeout=RECEIVE_TIMEOUT)
            self._absorb(call, response)
            if response.final == "OK":
                return  # no more pages: the modem said +FHNG / +FHS with it
            if response.final != "CONNECT":
                log.warning("+FDR answered %s", response.final)
                return
            self.emit(LineState.PAGE, str(len(received) + 1))
            page = await self._receive_page(call)
            if page is None:
                return
            if call.hangup is None and page.status.good:
                why = await keep_page(keeper, len(received), page, call.remote_id)
                if why:  # not on disk, so not confirmed: RTN, and the sender may send it again
                    page = ReceivedPage(page.decoded, PageStatus.RTN)
            received.append(page)
            if call.hangup is None and page.status.good != (call.page_status or PageStatus.MCF).good:
                code = 1 if page.status.good else 2
                await ch.command(f"AT{self.names.page_status}={code}", timeout=5)

    async def _receive_page(self, call: _Call) -> ReceivedPage | None:
        ch = self.channel
        mode = call.mode
        if mode is None:
            raise ModemError(f"modem gave CONNECT to +FDR without {self.names.negotiated}")
        await ch.send_raw(bytes((DC2,)))  # T.32 +FDR: DC2 says we are ready for the data
        try:
            raw = await self._read_block()
        except AtTimeout:
            await ch.send_raw(bytes((CAN,)))
            ch.end_raw()
            return None
        ch.end_raw()
        call.page_status, call.post_page = None, None
        try:
            final = await ch.wait_final(PAGE_END_TIMEOUT)
        except AtTimeout:
            final = None
        self._absorb(call, final)
        decoded, status = self._judge(dle_decode(raw), mode)
        if decoded is None:
            return None
        return ReceivedPage(decoded, status)

    def _judge(self, data: bytes, mode: Mode) -> tuple[DecodedPage | None, PageStatus]:
        """Decode in the expected bit order; try the other one if the page did not decode at all."""
        decoded, status = judge_page(data, mode, self.quality, bit_order=self.rx_order)
        if decoded is not None and decoded.rtc and status.good:
            return decoded, status
        other = BitOrder.LSB_FIRST if self.rx_order is BitOrder.MSB_FIRST else BitOrder.MSB_FIRST
        again, again_status = judge_page(data, mode, self.quality, bit_order=other)
        if again is not None and again.rtc and (decoded is None or again.bad_line_count < decoded.bad_line_count):
            log.info("received page decodes in %s order, not %s: switching", other.value, self.rx_order.value)
            self.rx_order = other
            return again, again_status
        return decoded, status

    async def _read_block(self) -> bytes:
        """Raw bytes up to and including the <DLE><ETX> that ends the page (a doubled DLE is data)."""
        out = bytearray()
        while True:
            out += await self.channel.read_raw(until=DLE_ETX, timeout=RECEIVE_TIMEOUT)
            run, index = 0, len(out) - 2
            while index >= 0 and out[index] == DLE:
                run, index = run + 1, index - 1
            if run % 2 == 1:
                return bytes(out)


def _after(flow_bytes: bytes, stopped: bool) -> bool:
    """Whether the modem wants us stopped after these bytes (the last DC1/DC3 wins)."""
    for byte in flow_bytes:
        if byte == DC3:
            stopped = True
        elif byte == DC1:
            stopped = False
    return stopped

