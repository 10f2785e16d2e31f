"""`FaxModem`: send and receive faxes through a Class 1, 2 or 2.0 modem on any transport.

    async with FaxModem("serial:///dev/ttyUSB0", cls="1", local_id="+49 30 1234") as modem:
        report = await modem.send("5551234", pages)      # SendReport with per-page status
        fax = await modem.receive(keeper=spool_page)     # waits for RING, answers: ReceivedFax

`cls` is "1" (our T.30 engine over T.31), "2" (SP-2388 / EIA-592 draft) or "2.0" (T.32), where the
modem runs T.30 itself and `class2.Class2Driver` moves the pages; the reports are the same.
Line state changes go to the `on_event` callbacks as `LineEvent`s.  `keeper` (see `reports.PageKeeper`)
is awaited with each good page before the page is confirmed to the sender.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from hardware.fax_modem.t30.caps import Capabilities
from hardware.fax_modem.t30.class1 import Class1Link
from hardware.fax_modem.t30.class2 import Class2Driver
from hardware.fax_modem.t30.class2_codes import Dialect
from hardware.fax_modem.t30.errors import CallFailed, ModemError
from hardware.fax_modem.t30.pagedata import CopyQuality
from hardware.fax_modem.t30.reports import (
    LineEvent, LineState, PageKeeper, PageReport, ReceivedFax, ReceivedPage, SendReport,
)
from hardware.fax_modem.t30.runner import run_session
from hardware.fax_modem.t30.session import T30Session, Timers
from hardware.fax_modem.t4_page import Page
from hardware.serial import AtChannel, AtClosed, AtError, Urc

log = logging.getLogger(__name__)

CLASSES = ("1", "2", "2.0")
DIAL_TIMEOUT = 90.0  # seconds from ATD to the first V.21 frame (T.30 T1 is 35 s after answer)


class FaxModem:
    """One fax modem (see the module docstring)."""

    def __init__(self, url: str, cls: str = "1", *, local_id: str = "", caps: Capabilities | None = None,
                 timers: Timers | None = None, dial_timeout: float = DIAL_TIMEOUT,
                 init: Sequence[str] = ("ATZ", "ATE0V1Q0"), quality: CopyQuality | None = None) -> None:
        if cls not in CLASSES:
            raise ModemError(f"fax class {cls!r} is not one of {CLASSES}")
        self.url = url
        self.cls = cls
        self.local_id = local_id
        self.caps = caps or Capabilities()
        self.timers = timers or Timers()
        self.dial_timeout = dial_timeout
        self.init = tuple(init)
        self.quality = quality or CopyQuality()
        self.channel: AtChannel | None = None
        self.state = LineState.IDLE
        self._callbacks: list[Callable[[LineEvent], Any]] = []
        self._rings: asyncio.Queue[Urc] = asyncio.Queue()
        self._unsubscribe: Callable[[], None] | None = None
        self._closing = False
        self._class2: Class2Driver | None = None

    # --- lifecycle ---------------------------------------------------------------------------------
    async def open(self, channel: AtChannel | None = None) -> FaxModem:
        """Open the transport, reset the modem and select the fax class."""
        self.channel = channel or await AtChannel.open(self.url)
        self._unsubscribe = self.channel.on_unsolicited(self._urc)
        self.channel.on_close(self._closed_under_us)
        for command in self.init:
            await self.channel.command(command, timeout=5)
        await self.channel.command(f"AT+FCLASS={self.cls}", timeout=5, check=True)
        if self.cls != "1":
            self._class2 = Class2Driver(self.channel, Dialect(self.cls), local_id=self.local_id, caps=self.caps,
                                        quality=self.quality, dial_timeout=self.dial_timeout,
                                        hardware_flow="rtscts=1" in self.url, emit=self._emit)
            await self._class2.setup()
        return self

    def _closed_under_us(self) -> None:
        if not self._closing:
            self._emit(LineState.FAILED, "modem went away")

    async def close(self) -> None:
        """Hang up if needed and close the transport."""
        self._closing = True
        if self.channel is not None:
            if self._unsubscribe is not None:
                self._unsubscribe()
            await self.channel.close()
            self.channel = None

    async def __aenter__(self) -> FaxModem:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def on_event(self, callback: Callable[[LineEvent], Any]) -> Callable[[], None]:
        """Call `callback(LineEvent)` on every line state change; returns an unsubscriber."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def _emit(self, state: LineState, detail: str = "") -> None:
        self.state = state
        for callback in list(self._callbacks):
            try:
                callback(LineEvent(state, detail))
            except Exception:  # a listener's bug must not break the call
                log.exception("fax line event callback failed")

    def _urc(self, urc: Urc) -> None:
        if urc.name in ("RING", "+CRING"):
            self._rings.put_nowait(urc)
            self._emit(LineState.RINGING)

    def _need_channel(self) -> AtChannel:
        if self.channel is None or self.channel.closed:
            raise ModemError(f"{self.url}: modem is not open")
        return self.channel

    # --- calls -----------------------------------------------------------------------------------
    async def send(self, number: str, pages: Sequence[Page]) -> SendReport:
        """Dial `number` and send `pages`; the report says what each page became."""
        if not pages:
            raise ModemError("nothing to send: no pages")
        channel = self._need_channel()
        if self._class2 is not None:
            return await self._send_class2(number, pages)
        self._emit(LineState.DIALING, number)
        response = await channel.command(f"ATDT{number}", timeout=self.dial_timeout)
        if response.final != "CONNECT":
            self._emit(LineState.FAILED, response.final)
            raise CallFailed(f"dialling {number}: {response.final}", response.final)
        self._emit(LineState.CONNECTED, number)
        fine = all(p.y_dpi > 150 for p in pages)
        session = T30Session.sender(self.caps, self.local_id, len(pages), timers=self.timers, fine=fine,
                                    width=max(p.width for p in pages))
        link = Class1Link(channel, pages, calling=True, on_page=lambda i: self._emit(LineState.PAGE, str(i + 1)))
        finish = await run_session(session, link)
        await self._hang_up()
        report = SendReport(finish.ok, number, finish.reason, session.remote_id,
                            [PageReport(p.index, p.status, p.attempts) for p in session.pages], session.mode)
        self._emit(LineState.HUNG_UP if finish.ok else LineState.FAILED, finish.reason)
        return report

    async def receive(self, timeout: float | None = None, rings: int = 1,
                      keeper: PageKeeper | None = None) -> ReceivedFax:
        """Wait for `rings` RINGs (up to `timeout` s), answer, and receive a fax (pages kept by `keeper`)."""
        channel = self._need_channel()
        for _ in range(rings):
            await asyncio.wait_for(self._rings.get(), timeout)
        if self._class2 is not None:
            return await self._receive_class2(keeper)
        response = await channel.command("ATA", timeout=self.dial_timeout)
        if response.final != "CONNECT":
            self._emit(LineState.FAILED, response.final)
            raise CallFailed(f"answering: {response.final}", response.final)
        self._emit(LineState.CONNECTED)
        session = T30Session.receiver(self.caps, self.local_id, timers=self.timers, quality=self.quality)
        link = Class1Link(channel, calling=False, on_page=lambda i: self._emit(LineState.PAGE), keeper=keeper)
        finish = await run_session(session, link)
        await self._hang_up()
        fax = ReceivedFax(finish.ok, finish.reason, session.remote_id,
                          [ReceivedPage(p.decoded, p.status) for p in session.pages if p.decoded is not None],
                          session.mode)
        self._emit(LineState.HUNG_UP if finish.ok else LineState.FAILED, finish.reason)
        return fax

    async def _send_class2(self, number: str, pages: Sequence[Page]) -> SendReport:
        assert self._class2 is not None
        try:
            report = await self._class2.send(number, pages)
        except CallFailed as exc:
            self._emit(LineState.FAILED, exc.reason)
            await self._hang_up()
            raise
        except (AtError, AtClosed) as exc:
            report = SendReport(False, number, f"modem failed: {exc}")
        await self._hang_up()
        self._emit(LineState.HUNG_UP if report.ok else LineState.FAILED, report.reason)
        return report

    async def _receive_class2(self, keeper: PageKeeper | None) -> ReceivedFax:
        assert self._class2 is not None
        try:
            fax = await self._class2.answer(keeper)
        except CallFailed as exc:
            self._emit(LineState.FAILED, exc.reason)
            await self._hang_up()
            raise
        except (AtError, AtClosed) as exc:
            fax = ReceivedFax(False, f"modem failed: {exc}")
        await self._hang_up()
        self._emit(LineState.HUNG_UP if fax.ok else LineState.FAILED, fax.reason)
        return fax

    async def _hang_up(self) -> None:
        channel = self.channel
        if channel is None or channel.closed:
            return
        with contextlib.suppress(AtError, AtClosed):
            if channel.raw_mode:
                channel.end_raw()
            await channel.command("ATH0", timeout=5)
