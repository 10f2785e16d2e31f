"""The T.30 session (phases B-E, T.30 §5 and Annex A flow charts) as a pure state machine.

Written by hand: no maintained library runs T.30 for a Python DTE. No I/O and no clock here:

    session = T30Session.sender(local_caps, "+49 30 1234", page_count=2, fine=True)
    action = session.start()                 # SendFrames / ReceiveFrames / SendTcf / ... / Finish
    while not isinstance(action, Finish):
        event = await driver.execute(action)  # the driver does the I/O and owns the clock
        action = session.handle(event)

Timers T1-T4 travel as data in `ReceiveFrames.timeout`; a timer running out comes back as the
`Timeout` event.  ECM (T.30 Annex A) is left out: we never offer it and refuse a DCS that asks.
A receiver asks the driver to keep each good page (`StorePage`) before it sends MCF/RTP for it.
The actions and events live in `actions` and are re-exported here.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field, replace

from hardware.fax_modem.t30.actions import (
    Action, BadFrame, Done, Event, Finish, FramesReceived, LinkDown, PageNotStored, PageReceived, PageSent,
    PageStored, PostPage, ReceiveFrames, ReceivePage, ReceiveTcf, SendFrames, SendPage, SendTcf, StorePage,
    TcfReceived, Timeout, WrongCarrier,
)
from hardware.fax_modem.t30.caps import Capabilities, Mode, decode_dcs, decode_dis, encode_dcs, encode_dis
from hardware.fax_modem.t30.caps import fallback, negotiate
from hardware.fax_modem.t30.errors import FrameError
from hardware.fax_modem.t30.frames import FCF, Frame, decode_id, id_frame
from hardware.fax_modem.t30.pagedata import CopyQuality, PageStatus, judge_page, tcf_ok
from hardware.fax_modem.t4_page import DecodedPage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timers:
    """T.30 §5.4.3 timers in seconds; `scaled` shortens them for emulated lines."""

    t1: float = 35.0  # time to find the other fax machine
    t2: float = 6.0  # waiting for a command (and for page data after CFR/MCF)
    t3: float = 10.0  # operator alert (unused: no procedure interrupts)
    t4: float = 3.0  # waiting for a response

    def scaled(self, factor: float) -> Timers:
        """All timers multiplied by `factor`."""
        return Timers(self.t1 * factor, self.t2 * factor, self.t3 * factor, self.t4 * factor)


__all__ = [  # the actions and events, for drivers that import them from here
    "Action", "BadFrame", "Done", "Event", "Finish", "FramesReceived", "LinkDown", "PageNotStored", "PageReceived",
    "PageRecord", "PageSent", "PageStored", "PostPage", "ReceiveFrames", "ReceivePage", "ReceiveTcf", "SendFrames",
    "SendPage", "SendTcf", "State", "StorePage", "T30Session", "TcfReceived", "Timeout", "Timers", "WrongCarrier",
]


@dataclass
class PageRecord:
    """What happened to one page: its index in the document, status and tries (sender) or data (receiver)."""

    index: int
    status: PageStatus
    attempts: int = 1
    decoded: DecodedPage | None = None
    mode: Mode | None = None


class State(enum.Enum):
    """Where the session is (named after T.30 Annex A nodes where one exists)."""

    WAIT_DIS = "wait DIS"
    SEND_DCS = "send DCS"
    SEND_TCF = "send TCF"
    WAIT_CFR = "wait CFR"
    SEND_PAGE = "send page"
    SEND_PPM = "send PPM"
    WAIT_PPR = "wait post-page response"
    SEND_DIS = "send DIS"
    WAIT_COMMAND = "wait command"
    RECEIVE_TCF = "receive TCF"
    STORE_PAGE = "store page"
    SEND_RESPONSE = "send response"
    RECEIVE_PAGE = "receive page"
    SEND_DCN = "send DCN"
    DONE = "done"


_PAGE_RESPONSES = frozenset({FCF.MCF, FCF.RTN, FCF.RTP, FCF.PIN, FCF.PIP})
MAX_TRIES = 3  # T.30 §5.4.3.3 note: commands are repeated up to three times before giving up


@dataclass
class T30Session:
    """One fax call's T.30 procedure; build with `sender` or `receiver`."""

    sending: bool
    local: Capabilities
    local_id: str
    timers: Timers = field(default_factory=Timers)
    quality: CopyQuality = field(default_factory=CopyQuality)
    page_count: int = 0
    fine: bool = True
    width: int = 1728
    max_page_tries: int = 3
    state: State = State.DONE
    remote_id: str = ""
    remote_caps: Capabilities | None = None
    mode: Mode | None = None
    pages: list[PageRecord] = field(default_factory=list)
    outcome: Finish | None = None
    _tries: int = 0
    _waited: float = 0.0
    _page: int = 0
    _ppm: PostPage | None = None
    _response: FCF | None = None
    _after_send: str = ""
    _log: list[str] = field(default_factory=list)

    @classmethod
    def sender(cls, local: Capabilities, local_id: str, page_count: int, **options: object) -> T30Session:
        """A calling station that sends `page_count` pages (the driver may still end early with EOP)."""
        return cls(sending=True, local=local, local_id=local_id, page_count=page_count, **options)  # type: ignore[arg-type]

    @classmethod
    def receiver(cls, local: Capabilities, local_id: str, **options: object) -> T30Session:
        """An answering station that receives."""
        return cls(sending=False, local=local, local_id=local_id, **options)  # type: ignore[arg-type]

    @property
    def received_pages(self) -> list[DecodedPage]:
        """Decoded pages the receiver accepted (MCF/RTP), in order."""
        return [p.decoded for p in self.pages if p.status.good and p.decoded is not None]

    @property
    def transcript(self) -> list[str]:
        """Frames sent (>) and received (<), for logs and golden tests."""
        return list(self._log)

    # --- entry points ---------------------------------------------------------------------------
    def start(self) -> Action:
        """The first action: wait for DIS (sender) or send CSI+DIS (receiver)."""
        if self.sending:
            self.state = State.WAIT_DIS
            return ReceiveFrames(self.timers.t1, "T1")
        return self._send_dis()

    def handle(self, event: Event) -> Action:
        """Feed the outcome of the last action; returns the next action."""
        if self.state is State.DONE:
            return self.outcome or Finish(False, "session already over")
        if isinstance(event, LinkDown):
            return self._finish(False, f"line lost: {event.reason}")
        if isinstance(event, FramesReceived):
            for frame in event.frames:
                self._log.append(f"< {frame}")
            if any(f.fcf is FCF.DCN for f in event.frames) and self.state is not State.SEND_DCN:
                return self._remote_dcn()
        handler = getattr(self, f"_on_{self.state.name.lower()}")
        return handler(event)

    # --- common ------------------------------------------------------------------------------------
    def _send(self, state: State, *frames: Frame) -> SendFrames:
        self.state = state
        for frame in frames:
            self._log.append(f"> {frame}")
        return SendFrames(tuple(frames))

    def _finish(self, ok: bool, reason: str) -> Finish:
        self.state = State.DONE
        self.outcome = Finish(ok, reason)
        log.info("T.30 session over: %s (%s)", "ok" if ok else "failed", reason)
        return self.outcome

    def _dcn(self, ok: bool, reason: str) -> SendFrames:
        self.outcome = Finish(ok, reason)
        return self._send(State.SEND_DCN, Frame(FCF.DCN, x=self.sending))

    def _on_send_dcn(self, event: Event) -> Action:
        outcome = self.outcome or Finish(False, "disconnected")
        return self._finish(outcome.ok, outcome.reason)

    def _remote_dcn(self) -> Finish:
        if self.sending:
            return self._finish(False, "remote sent DCN before the end")
        if self._ppm is PostPage.EOP or (self.pages and self._response is not None and self._ppm is PostPage.EOP):
            return self._finish(True, "all pages received")
        if self.pages:
            return self._finish(False, "remote disconnected before EOP")
        return self._finish(False, "remote disconnected before any page")

    @staticmethod
    def _find(frames: tuple[Frame, ...], *fcfs: FCF) -> Frame | None:
        return next((f for f in frames if f.fcf in fcfs), None)

    # --- sender ---------------------------------------------------------------------------------------
    def _on_wait_dis(self, event: Event) -> Action:
        if isinstance(event, FramesReceived):
            ident = self._find(event.frames, FCF.CSI)
            if ident is not None:
                self.remote_id = decode_id(ident.fif)
            dis = self._find(event.frames, FCF.DIS)
            if dis is not None:
                try:
                    self.remote_caps = decode_dis(dis.fif)
                except FrameError:
                    return ReceiveFrames(self.timers.t4, "T4")
                if not self.remote_caps.receiver:
                    return self._dcn(False, "remote station cannot receive")
                self.mode = negotiate(self.local, self.remote_caps, width=self.width, fine=self.fine)
                self._tries = 0
                return self._send_dcs()
        if isinstance(event, Timeout) or self._waited > self.timers.t1:
            return self._finish(False, "no DIS from the remote station (T1)")
        self._waited += self.timers.t4
        return ReceiveFrames(self.timers.t4 * 2, "T1")

    def _send_dcs(self) -> Action:
        assert self.mode is not None
        self._tries += 1
        if self._tries > MAX_TRIES:
            return self._dcn(False, "no answer to DCS after 3 tries")
        return self._send(State.SEND_DCS, id_frame(FCF.TSI, self.local_id, x=True),
                          Frame(FCF.DCS, encode_dcs(self.mode), final=True, x=True))

    def _on_send_dcs(self, event: Event) -> Action:
        assert self.mode is not None
        self.state = State.SEND_TCF
        return SendTcf(self.mode, int(self.mode.bit_rate * 1.5) // 8)

    def _on_send_tcf(self, event: Event) -> Action:
        self.state = State.WAIT_CFR
        return ReceiveFrames(self.timers.t4, "T4")

    def _on_wait_cfr(self, event: Event) -> Action:
        assert self.mode is not None and self.remote_caps is not None
        if isinstance(event, FramesReceived):
            if self._find(event.frames, FCF.CFR):
                self._tries = 0
                return self._send_page()
            if self._find(event.frames, FCF.FTT):
                lower = fallback(self.mode, self.remote_caps, self.local)
                if lower is None:
                    return self._dcn(False, "training failed at the lowest speed")
                self.mode, self._tries = lower, 0
                return self._send_dcs()
            if self._find(event.frames, FCF.DIS):
                return self._send_dcs()  # our DCS was lost: the receiver repeats DIS
            if self._find(event.frames, FCF.CRP):
                self._tries -= 1
                return self._send_dcs()
        return self._send_dcs()

    def _send_page(self) -> SendPage:
        assert self.mode is not None
        self.state = State.SEND_PAGE
        return SendPage(self._page, self.mode)

    def _on_send_page(self, event: Event) -> Action:
        if not isinstance(event, PageSent):
            return self._finish(False, f"page {self._page + 1} not sent: {event}")
        self._ppm = event.ppm
        self._tries = 0
        return self._send_ppm()

    def _send_ppm(self) -> Action:
        assert self._ppm is not None
        self._tries += 1
        if self._tries > MAX_TRIES:
            self._record(PageStatus.UNCONFIRMED)
            return self._dcn(False, f"no response to {self._ppm.name} after 3 tries")
        return self._send(State.SEND_PPM, Frame(self._ppm.value, x=True))

    def _on_send_ppm(self, event: Event) -> Action:
        self.state = State.WAIT_PPR
        return ReceiveFrames(self.timers.t4, "T4")

    def _record(self, status: PageStatus) -> PageRecord:
        existing = next((p for p in self.pages if p.index == self._page), None)
        if existing is None:
            existing = PageRecord(self._page, status, mode=self.mode)
            self.pages.append(existing)
        else:
            existing.status, existing.attempts, existing.mode = status, existing.attempts + 1, self.mode
        return existing

    def _on_wait_ppr(self, event: Event) -> Action:
        if not isinstance(event, FramesReceived):
            return self._send_ppm()
        response = self._find(event.frames, FCF.MCF, FCF.RTP, FCF.PIP, FCF.RTN, FCF.PIN, FCF.CRP)
        if response is None or response.fcf is FCF.CRP:
            return self._send_ppm()
        record = self._record(PageStatus(response.fcf.name))
        retrain = response.fcf in (FCF.RTP, FCF.RTN, FCF.PIN)
        if not record.status.good and record.attempts < self.max_page_tries:
            self._tries = 0
            return self._send_dcs()  # T.30 §5.3.6.1.6: after RTN retrain, then send the page again
        if self._ppm is PostPage.EOP:
            failed = [p.index + 1 for p in self.pages if not p.status.good]
            return self._dcn(not failed, "all pages confirmed" if not failed else f"pages {failed} not confirmed")
        self._page += 1
        self._tries = 0
        if self._ppm is PostPage.EOM:
            self.state = State.WAIT_DIS
            self._waited = 0.0
            return ReceiveFrames(self.timers.t1, "T1")
        return self._send_dcs() if retrain else self._send_page()

    # --- receiver -------------------------------------------------------------------------------------
    def _send_dis(self) -> Action:
        self._tries += 1
        if self._tries * self.timers.t4 > self.timers.t1:
            return self._dcn(False, "no DCS from the remote station (T1)")
        return self._send(State.SEND_DIS, id_frame(FCF.CSI, self.local_id), Frame(FCF.DIS, encode_dis(self.local)))

    def _on_send_dis(self, event: Event) -> Action:
        self.state = State.WAIT_COMMAND
        return ReceiveFrames(self.timers.t4, "T4")

    def _on_wait_command(self, event: Event) -> Action:
        if isinstance(event, FramesReceived):
            ident = self._find(event.frames, FCF.TSI)
            if ident is not None:
                self.remote_id = decode_id(ident.fif)
            dcs = self._find(event.frames, FCF.DCS)
            if dcs is not None:
                return self._on_dcs(dcs)
            ppm = self._find(event.frames, FCF.MPS, FCF.EOP, FCF.EOM, FCF.PRI_MPS, FCF.PRI_EOP, FCF.PRI_EOM)
            if ppm is not None:
                return self._on_ppm(ppm)
            if self._find(event.frames, FCF.CRP) and self._response is not None:
                return self._send(State.SEND_RESPONSE, Frame(self._response))
        if not self.pages and self.mode is None:
            return self._send_dis()  # T.30 Annex A: repeat DIS every T4 until T1 runs out
        self._tries += 1
        if self._tries > MAX_TRIES * 2:
            return self._finish(bool(self.pages) and self._ppm is PostPage.EOP, "no command from the sender (T2)")
        return ReceiveFrames(self.timers.t2, "T2")

    def _on_dcs(self, dcs: Frame) -> Action:
        try:
            mode = decode_dcs(dcs.fif)
        except FrameError as exc:
            log.warning("bad DCS from %r: %s", self.remote_id, exc)
            return self._send(State.SEND_RESPONSE, Frame(FCF.CRP))
        if mode.ecm:
            return self._dcn(False, "remote asked for ECM, which this station does not offer")
        self.mode = mode
        self._tries = 0
        self.state = State.RECEIVE_TCF
        return ReceiveTcf(mode, self.timers.t2)

    def _on_receive_tcf(self, event: Event) -> Action:
        assert self.mode is not None
        if isinstance(event, TcfReceived):
            if tcf_ok(event.data, self.mode):
                self._after_send = "page"
                return self._send(State.SEND_RESPONSE, Frame(FCF.CFR))
            self._after_send = "command"
            return self._send(State.SEND_RESPONSE, Frame(FCF.FTT))
        self.state = State.WAIT_COMMAND
        return ReceiveFrames(self.timers.t4, "T4")

    def _on_send_response(self, event: Event) -> Action:
        assert self.mode is not None
        if self._after_send == "page":
            self.state = State.RECEIVE_PAGE
            return ReceivePage(self.mode, self.timers.t2)
        if self._after_send == "dis":
            self._tries = 0
            self.mode = None
            return self._send_dis()
        self.state = State.WAIT_COMMAND
        self._tries = 0
        return ReceiveFrames(self.timers.t2, "T2")

    def _on_receive_page(self, event: Event) -> Action:
        assert self.mode is not None
        if isinstance(event, PageReceived):
            decoded, status = judge_page(event.data, self.mode, self.quality)
            self.pages.append(PageRecord(len(self.pages), status, decoded=decoded, mode=self.mode))
            self._response = None
        self.state = State.WAIT_COMMAND
        self._tries = 0
        return ReceiveFrames(self.timers.t2, "T2")

    def _on_ppm(self, ppm: Frame) -> Action:
        self._ppm = PostPage[ppm.fcf.name.removeprefix("PRI_")]
        if self._response is None:
            last = self.pages[-1] if self.pages else None
            status = last.status if last is not None else PageStatus.RTN
            if status is PageStatus.PARTIAL and last is not None:
                last.status = status = PageStatus.RTN  # no RTC: we saw only part of the page
            self._response = FCF[status.name] if status in (PageStatus.MCF, PageStatus.RTP) else FCF.RTN
            if self._response is not FCF.RTN and last is not None and last.decoded is not None:
                self.state = State.STORE_PAGE
                return StorePage(last.index, last.decoded, last.status, self.remote_id)
        return self._respond()

    def _on_store_page(self, event: Event) -> Action:
        if not isinstance(event, PageStored):
            # A page we could not keep is not confirmed: RTN makes the sender retrain and send it again.
            log.warning("received page not stored (%s): answering RTN", getattr(event, "reason", event))
            self.pages[-1].status = PageStatus.RTN
            self._response = FCF.RTN
        return self._respond()

    def _respond(self) -> SendFrames:
        assert self._response is not None
        if self._ppm is PostPage.EOM:
            self._after_send = "dis"
        elif self._ppm is PostPage.MPS and self._response is FCF.MCF:
            self._after_send = "page"
        else:
            self._after_send = "command"  # EOP: wait for DCN; RTP/RTN: wait for DCS (retrain)
        return self._send(State.SEND_RESPONSE, Frame(self._response))

    @property
    def post_page(self) -> PostPage | None:
        """The last post-page message sent (sender) or received (receiver)."""
        return self._ppm

    def override_response(self, status: PageStatus) -> Frame | None:
        """Replace the post-page response about to go out (Class 2 +FPTS=, T.32 +FPS=); None if none is due."""
        if self.state is not State.SEND_RESPONSE or self._response not in _PAGE_RESPONSES or not self.pages:
            return None
        self.pages[-1].status = status
        self._response = FCF[status.name]
        if not status.good:
            self._after_send = "command"  # RTN/PIN: the sender retrains or ends (T.30 §5.3.6.1.6)
        elif self._ppm is PostPage.MPS:
            self._after_send = "page"
        elif self._ppm is PostPage.EOM:
            self._after_send = "dis"
        else:
            self._after_send = "command"
        log.info("post-page response changed to %s by the DTE", status.name)
        return Frame(self._response)

    def replace_mode(self, **changes: object) -> None:
        """Change fields of the negotiated mode (Class 2 emulator: +FDIS during a call)."""
        if self.mode is not None:
            self.mode = replace(self.mode, **changes)  # type: ignore[arg-type]
