"""One call inside an emulated Class 2 / 2.0 modem: the modem runs our T.30 session on the line itself.

The DTE steers it with commands (ATD/ATA, +FDT, +FET, +FDR) that stay pending until the session
reaches the point they ask for; the call then answers them with the T.32 / SP-2388 reports:

    sender:   ATD -> +FCON +FCSI +FDIS OK;  +FDT -> +FDCS CONNECT <XON> data <DLE><ETX> OK;
              +FET=n -> +FPTS:1 OK (Class 2.0: data <DLE><ppm> -> OK / ERROR), after EOP +FHNG:0 OK
    receiver: ATA -> +FCON +FTSI +FDCS OK;  +FDR -> CONNECT, <DC2> from the DTE, data <DLE><ETX>,
              +FPTS:1,lc,blc +FET:0 OK;  the next +FDR sends MCF (or RTN after +FPTS=2) ...
              after EOP and DCN: +FHNG:0 OK

Page data is passed through as the DTE codes it (the modem never transcodes), at the line's rate:
a modem with a small buffer sends XOFF/XON (+FLO=1) or simply stops reading (+FLO=2, RTS/CTS).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hardware.fax_modem.t30.caps import Mode, encode_dcs
from hardware.fax_modem.t30.class2_codes import (
    CODE_OF_PAGE_STATUS, COMMANDS, FET_OF_POST_PAGE, POST_PAGE_OF_FET, WIDTHS, Dialect,
    params_of_caps, params_of_mode,
)
from hardware.fax_modem.t30.dle_page import PageDataReader
from hardware.fax_modem.t30.emulator_class1 import (
    MIN_PAGE_SECONDS, PAGE_OCTETS, TRAINING, V17_LONG_TRAIN, V21_PREAMBLE,
)
from hardware.fax_modem.t30.errors import FrameError
from hardware.fax_modem.t30.frames import FCF, Frame, decode_frame, encode_frame
from hardware.fax_modem.t30.hdlc import DC1, DC3, DLE_ETX, dle_encode, reverse_octets
from hardware.fax_modem.t30.line import Burst, Carrier, Hangup, HdlcFrame, LineEnd
from hardware.fax_modem.t30.pagedata import PageStatus
from hardware.fax_modem.t30.runner import run_session
from hardware.fax_modem.t30.session import (
    Action, BadFrame, Done, Event, Finish, FramesReceived, LinkDown, PageReceived, PageSent, PageStored, PostPage,
    ReceiveFrames, ReceivePage, ReceiveTcf, SendFrames, SendPage, SendTcf, State, StorePage, T30Session,
    TcfReceived, Timeout, WrongCarrier,
)

if TYPE_CHECKING:
    from hardware.fax_modem.t30.emulator_class2 import Class2Mixin

log = logging.getLogger(__name__)

DTE_COMMAND_TIMEOUT = 30.0  # real seconds the modem waits for the DTE's next +FDT/+FDR/+FET
DTE_DATA_TIMEOUT = 10.0  # real seconds without page data before the modem gives up (+FHNG:43)
BUFFER_OCTETS = 1024  # the modem's transmit buffer: XOFF above this much unsent data...
RESUME_OCTETS = 256  # ...XON again below this
_RESPONSES = (FCF.MCF, FCF.RTN, FCF.RTP, FCF.PIN, FCF.PIP)


class DteGone(Exception):
    """The DTE stopped answering (no command or no data in time, or the port closed)."""


@dataclass
class DteCommand:
    """A DTE command the call answers when the session gets there."""

    name: str
    arg: str
    future: asyncio.Future[str | None]


class Class2Call:
    """The T.30 session of one call, run by the modem, with the DTE lent to it per command."""

    def __init__(self, modem: Class2Mixin, end: LineEnd, session: T30Session, dialect: Dialect) -> None:
        self.modem = modem
        self.end = end
        self.session = session
        self.dialect = dialect
        self.names = COMMANDS[dialect]
        self.pending: DteCommand | None = None
        self.ppr_override: PageStatus | None = None
        self.last_ppr: PageStatus | None = None
        self.finish: Finish | None = None
        self.hangup_code: int | None = None
        self._arrived = asyncio.Event()
        self._reported_connect = False
        self._fdt_taken = False
        self._report_dcs = False
        self._page_data_done = False
        self._hold_final = False
        self._hangup_told = False
        self._state = session.state
        self._task: asyncio.Task[None] | None = None

    # --- the DTE side -----------------------------------------------------------------------------
    def start(self) -> None:
        """Run the session in the background."""
        self._task = asyncio.create_task(self._run(), name=f"class {self.dialect.value} call {self.modem.number}")

    @property
    def running(self) -> bool:
        """True until the session ended."""
        return self._task is not None and not self._task.done()

    async def submit(self, name: str, arg: str = "") -> str | None:
        """Hand the DTE's command to the call; returns its final result code once the call answered it."""
        if not self.running:
            return self._after_end()
        cmd = DteCommand(name, arg, asyncio.get_running_loop().create_future())
        self.pending = cmd
        self._arrived.set()
        assert self._task is not None
        await asyncio.wait({cmd.future, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if cmd.future.done():
            return cmd.future.result()
        self.pending = None
        return self._after_end()

    def _after_end(self) -> str:
        if self.hangup_code is not None and self.finish is not None and not self._hangup_told:
            self._hangup_told = True
            self.modem.result(self._hangup_line())
            return "OK"
        return "ERROR"

    def _hangup_line(self) -> str:
        return f"{self.names.hangup}:{self.hangup_code or 0:02d}"

    def _complete(self, lines: list[str], final: str | None) -> None:
        cmd, self.pending = self.pending, None
        for line in lines:
            self.modem.result(line)
        if cmd is not None and not cmd.future.done():
            cmd.future.set_result(final)

    async def _wait_command(self, *names: str) -> DteCommand:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DTE_COMMAND_TIMEOUT
        while True:
            cmd = self.pending
            if cmd is not None and not cmd.future.done():
                if cmd.name in names:
                    return cmd
                self._complete([], "ERROR")  # T.32: a command out of turn is refused
            self._arrived.clear()
            if self.modem.dte_gone:
                raise DteGone("the DTE closed the port")
            try:
                await asyncio.wait_for(self._arrived.wait(), max(deadline - loop.time(), 0.001))
            except asyncio.TimeoutError:
                raise DteGone(f"no {' or '.join(names)} from the DTE") from None

    def abort(self) -> None:
        """+FK / +FKS: stop the session (the caller hangs up)."""
        if self._task is not None:
            self._task.cancel()
        self.hangup_code = 2
        self.finish = Finish(False, "aborted by the DTE")

    # --- running the session ------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            finish = await run_session(self.session, self)
        except DteGone as exc:
            finish = Finish(False, str(exc))
        self.finish = finish
        if self.hangup_code is None:
            self.hangup_code = self._code_for(finish)
        log.info("class %s call on %s over: %s (+FHNG %d)", self.dialect.value, self.modem.number, finish.reason,
                 self.hangup_code)
        self.end.hang_up()
        if self.pending is not None:
            self._hangup_told = True
            self._complete([self._hangup_line()], "OK")

    def _code_for(self, finish: Finish) -> int:
        """The hang-up status for how the session ended (SP-2388 / T.32 hang-up code table)."""
        if finish.ok:
            return 0
        reason, state, sending = finish.reason, self._state, self.session.sending
        known = {"no DIS from": 11, "no answer to DCS": 25, "training failed": 27, "cannot receive": 21,
                 "no response to MPS": 52, "no response to EOP": 54, "no response to EOM": 56, "not confirmed": 50,
                 "no DCS from": 70, "asked for ECM": 70, "DTE closed": 2}
        for text, code in known.items():
            if text in reason:
                return code
        if "no command from the sender" in reason:
            return 73 if not self.session.pages else 100
        if sending:
            return 40 if state is State.SEND_PAGE else 50 if state in (State.SEND_PPM, State.WAIT_PPR) else 20
        return 90 if state is State.RECEIVE_PAGE else 100 if self.session.pages else 70

    async def execute(self, action: Action) -> Event:
        """Do one session action on the line (the `runner.Link` protocol)."""
        self._state = self.session.state
        try:
            if isinstance(action, SendFrames):
                return await self._send_frames(action)
            if isinstance(action, ReceiveFrames):
                return await self._receive_frames(action)
            if isinstance(action, SendTcf):
                await self._transmit(action.mode, bytes(action.length))
                return Done()
            if isinstance(action, ReceiveTcf):
                self._report_session()
                data = await self._receive_data(action.mode, action.timeout)
                return data if not isinstance(data, bytes) else TcfReceived(data)
            if isinstance(action, SendPage):
                return await self._send_page(action)
            if isinstance(action, ReceivePage):
                return await self._receive_page(action)
            if isinstance(action, StorePage):
                return PageStored()  # the modem keeps nothing: its DTE keeps the page before releasing +FDR
        except Hangup as exc:
            return LinkDown(str(exc))
        raise TypeError(f"not a link action: {action!r}")

    # --- reports to the DTE ---------------------------------------------------------------------------
    def _params(self, mode: Mode) -> str:
        return params_of_mode(mode).format(hexadecimal=self.dialect is Dialect.CLASS20)

    def _report_session(self) -> None:
        """Receiver: the sender's TSI and DCS arrived; the first time, ATA completes (+FCON, +FTSI, +FDCS, OK)."""
        assert self.session.mode is not None
        if self._reported_connect:
            self._report_dcs = True
            return
        self._reported_connect = True
        lines = [self.names.connect]
        if self.session.remote_id:
            lines.append(f'{self.names.remote_tsi}:"{self.session.remote_id}"')
        lines.append(f"{self.names.negotiated}:{self._params(self.session.mode)}")
        self._complete(lines, "OK")

    def _report_remote(self) -> None:
        """Sender: DIS arrived; ATD completes (+FCON, +FCSI, +FDIS, OK)."""
        self._reported_connect = True
        remote = self.session.remote_caps
        lines = [self.names.connect]
        if self.session.remote_id:
            lines.append(f'{self.names.remote_csi}:"{self.session.remote_id}"')
        if remote is not None:
            lines.append(f"{self.names.session}:{params_of_caps(remote).format(hexadecimal=self.dialect is Dialect.CLASS20)}")
        self._complete(lines, "OK")

    def _report_ppr(self, status: PageStatus, ppm: PostPage) -> None:
        """Sender: the post-page response arrived; +FET (Class 2) or <DLE><ppm> (2.0) gets its answer."""
        self.last_ppr = status
        if ppm is PostPage.EOP and status.good:
            self._hold_final = True  # the final OK waits for DCN: +FPTS:1, +FHNG:0, OK
            if self.dialect is Dialect.CLASS2:
                self.modem.result(f"{self.names.page_status}:{CODE_OF_PAGE_STATUS[status]}")
            return
        if self.dialect is Dialect.CLASS2:
            self._complete([f"{self.names.page_status}:{CODE_OF_PAGE_STATUS[status]}"], "OK")
        else:
            # T.32: OK for MCF/RTP/PIP, ERROR for RTN/PIN; +FPS? tells which
            self._complete([], "OK" if status.good else "ERROR")

    # --- frames ----------------------------------------------------------------------------------------
    async def _send_frames(self, action: SendFrames) -> Event:
        frames = action.frames
        state = self.session.state
        if state is State.SEND_DCS:
            if not self._reported_connect:
                self._report_remote()
            if not self._fdt_taken:
                await self._wait_command("+FDT")
                self._fdt_taken = True
                frames = self._apply_session_params(frames)
        elif state is State.SEND_RESPONSE and self._page_data_done and frames and frames[0].fcf in _RESPONSES:
            frames = await self._post_page_response(frames)
        await self._transmit_frames(frames)
        return Done()

    def _apply_session_params(self, frames: tuple[Frame, ...]) -> tuple[Frame, ...]:
        """+FDIS set by the DTE says what its page data is: resolution, width and coding go into the DCS."""
        session, wanted = self.session, self.modem.fax_params
        if session.mode is None or session.remote_caps is None:
            return frames
        fine = bool(wanted.vr) and session.remote_caps.fine
        width = WIDTHS[wanted.wd] if WIDTHS[wanted.wd] <= session.remote_caps.max_width else 1728
        two_d = wanted.df == 1 and session.remote_caps.two_d
        session.mode = replace(session.mode, fine=fine, width=width, two_d=two_d)
        return tuple(Frame(FCF.DCS, encode_dcs(session.mode), final=f.final, x=f.x) if f.fcf is FCF.DCS else f
                     for f in frames)

    async def _post_page_response(self, frames: tuple[Frame, ...]) -> tuple[Frame, ...]:
        """Receiver: tell the DTE how the page went, then send the response when it asks for the next page."""
        self._page_data_done = False
        record = self.session.pages[-1] if self.session.pages else None
        ppm = self.session.post_page
        status = PageStatus(frames[0].fcf.name)
        hexa = self.dialect is Dialect.CLASS20
        lines, bad = 0, 0
        if record is not None and record.decoded is not None:
            lines, bad = record.decoded.page.height, record.decoded.bad_line_count
        counts = ",".join(format(n, "X" if hexa else "d") for n in (lines, bad, 0, 0))
        fet = FET_OF_POST_PAGE.get(ppm, 0) if ppm is not None else 0
        self._complete([f"{self.names.page_status}:{CODE_OF_PAGE_STATUS[status]},{counts}", f"+FET:{fet}"], "OK")
        self.ppr_override = None
        await self._wait_command("+FDR")
        if self.ppr_override is not None and self.ppr_override is not status:
            frame = self.session.override_response(self.ppr_override)
            return (frame,) if frame is not None else frames
        return frames

    async def _transmit_frames(self, frames: tuple[Frame, ...]) -> None:
        burst = self.end.transmit(Carrier.V21)
        await asyncio.sleep(self.modem.scaled(V21_PREAMBLE))
        for frame in frames:
            data = encode_frame(frame)
            burst.write(HdlcFrame(data))
            await asyncio.sleep(self.modem.scaled((len(data) + 4) * 8 / 300))
        burst.close()
        if self.end.call.ended and not any(frame.fcf is FCF.DCN for frame in frames):
            raise Hangup(self.end.call.reason)  # after DCN the other side may put the receiver down at once

    async def _receive_frames(self, action: ReceiveFrames) -> Event:
        state = self.session.state
        heard = await self._listen({Carrier.V21}, action.timeout)
        if not isinstance(heard, Burst):
            return heard
        frames: list[Frame] = []
        while True:
            item = await self._next_item(heard)
            if item is None:
                break
            if isinstance(item, HdlcFrame):
                if not item.fcs_ok:
                    return BadFrame()
                try:
                    frame = decode_frame(item.data)
                except FrameError:
                    return BadFrame()
                frames.append(frame)
                if frame.final:
                    break
        if not frames:
            return Timeout()
        event = FramesReceived(tuple(frames))
        if state is State.WAIT_PPR:
            response = next((f for f in frames if f.fcf in _RESPONSES), None)
            ppm = self.session.post_page
            if response is not None and ppm is not None:
                self._report_ppr(PageStatus(response.fcf.name), ppm)
        return event

    async def _listen(self, wanted: set[Carrier], timeout: float) -> Burst | Event:
        """The carrier to read; Timeout, or WrongCarrier when frames come while we wait for a page."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            heard = await self.end.listen(wanted, min(0.1, max(deadline - loop.time(), 0.001)))
            if heard is None:
                continue
            if heard.matches:
                return heard.burst
            if heard.burst.carrier is not Carrier.V21 and Carrier.V21 in wanted:
                await asyncio.sleep(0.05)  # a page carrier while we wait for frames: no flags, keep waiting
                if heard.burst.ended:
                    self.end.skip(heard.burst)
                continue
            return WrongCarrier()
        return Timeout()

    async def _next_item(self, burst: Burst) -> bytes | HdlcFrame | None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                return await asyncio.wait_for(burst.read(), 0.2)
            if self.end.call.ended:
                raise Hangup(self.end.call.reason)

    # --- high-speed carriers --------------------------------------------------------------------------
    def _carrier(self, mode: Mode) -> Carrier:
        return Carrier.of(mode.class1_mod)

    async def _train(self, carrier: Carrier) -> Burst:
        burst = self.end.transmit(carrier)
        long_train = carrier in (Carrier.V17_7200, Carrier.V17_9600, Carrier.V17_12000, Carrier.V17_14400)
        await asyncio.sleep(self.modem.scaled(V17_LONG_TRAIN if long_train else TRAINING.get(carrier, 0.25)))
        return burst

    async def _transmit(self, mode: Mode, data: bytes) -> None:
        carrier = self._carrier(mode)
        burst = await self._train(carrier)
        burst.write(data)
        await asyncio.sleep(self.modem.scaled(len(data) * 8 / carrier.bit_rate))
        burst.close()

    async def _receive_data(self, mode: Mode, timeout: float) -> bytes | Event:
        heard = await self._listen({self._carrier(mode)}, timeout)
        if not isinstance(heard, Burst):
            return heard
        out = bytearray()
        while (item := await self._next_item(heard)) is not None:
            if isinstance(item, bytes):
                out += item
        return bytes(out)

    # --- pages from and to the DTE ------------------------------------------------------------------------
    async def _send_page(self, action: SendPage) -> Event:
        """+FDT: CONNECT, take the DTE's page data up to <DLE><ETX> or <DLE><ppm>, put it on the line."""
        modem, mode = self.modem, action.mode
        carrier = self._carrier(mode)
        burst = await self._train(carrier)
        self._fdt_taken = False
        modem.result(f"{self.names.negotiated}:{self._params(mode)}")
        modem.result("CONNECT")
        if self.dialect is Dialect.CLASS2:
            modem.send(bytes((DC1,)))  # SP-2388: XON says "send now"; T.32 dropped it
        loop = asyncio.get_running_loop()
        rate = carrier.bit_rate / 8 / modem.exchange.timescale  # octets per real second on the line
        started, sent, xoff = loop.time(), 0, False
        reader = PageDataReader(modem.dialect_reverses_tx())
        while not reader.done:
            chunk = await modem.read_data(DTE_DATA_TIMEOUT)
            if not chunk:
                burst.close()
                self.hangup_code = 43  # DTE to DCE data underflow
                raise DteGone("page data stopped")
            data = reader.feed(chunk)
            if data:
                burst.write(data)
                sent += len(data)
            if self.end.call.ended:
                await self._discard_page(reader)
                raise Hangup(self.end.call.reason)
            ahead = started + sent / rate - loop.time()
            if ahead * rate > BUFFER_OCTETS:
                if modem.flow == 1:
                    modem.send(bytes((DC3,)))
                    modem.xoff_sent += 1
                    xoff = True
                await asyncio.sleep(ahead - RESUME_OCTETS / rate)
                if xoff:
                    modem.send(bytes((DC1,)))
                    xoff = False
        modem.push_back(reader.tail)
        now = loop.time()
        # As in Class 1: a real page is over a second on the line, and efax divides by whole seconds.
        floor = started + MIN_PAGE_SECONDS if sent > PAGE_OCTETS else 0.0
        await asyncio.sleep(max(started + sent / rate - now, floor - now, 0))
        burst.close()
        if self.end.call.ended:
            raise Hangup(self.end.call.reason)
        if reader.ppm is None:  # <DLE><ETX>: OK now, the post-page message comes with +FET
            self._complete([], "OK")
            cmd = await self._wait_command("+FET")
            try:
                ppm = POST_PAGE_OF_FET[int(cmd.arg or 0)]
            except (KeyError, ValueError):
                ppm = PostPage.EOP
        else:
            ppm = reader.ppm
        return PageSent(ppm)

    async def _discard_page(self, reader: PageDataReader) -> None:
        """The line dropped mid-page: swallow the rest of the DTE's data, so it is not read as commands."""
        while not reader.done:
            chunk = await self.modem.read_data(2.0)
            if not chunk:
                return
            reader.feed(chunk)
        self.modem.push_back(reader.tail)

    async def _receive_page(self, action: ReceivePage) -> Event:
        """+FDR: CONNECT when the page carrier comes, wait for <DC2>, pass the data on, end with <DLE><ETX>."""
        modem = self.modem
        await self._wait_command("+FDR")
        if self._report_dcs and self.session.mode is not None:
            modem.result(f"{self.names.negotiated}:{self._params(self.session.mode)}")
            self._report_dcs = False
        heard = await self._listen({self._carrier(action.mode)}, action.timeout)
        if not isinstance(heard, Burst):
            return heard
        modem.result("CONNECT")
        await modem.wait_start_character(DTE_COMMAND_TIMEOUT)
        reverse = modem.dialect_reverses_rx()
        raw = bytearray()
        try:
            while (item := await self._next_item(heard)) is not None:
                if isinstance(item, bytes):
                    raw += item
                    modem.send(dle_encode(reverse_octets(item) if reverse else item))
                    await modem.drain()
        finally:
            modem.send(DLE_ETX)  # also when the line drops: the DTE must get out of the data phase
        await modem.drain()
        self._page_data_done = True
        return PageReceived(bytes(raw))
