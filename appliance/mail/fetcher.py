"""The fetch loop of one account: list, fetch, spool (fsync), and only then acknowledge at the server."""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Callable

from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import SpoolEntry
from appliance.mail.errors import MailError
from appliance.mail.sources import ImapSource, MailSource, Pop3Source, ServerConfig

log = logging.getLogger(__name__)

BATCH = 100                 # messages per spool segment and per server round trip
IDLE_SLICE_S = 2.0          # an IDLE wait is cut in slices so a stop never waits long for a thread
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 300.0


@dataclass
class AccountStatus:
    """What the admin console shows per account."""

    name: str
    protocol: str
    state: str = "starting"
    last_fetch_at: float | None = None
    last_ok_at: float | None = None
    last_error: str = ""
    last_error_at: float | None = None
    fetched: int = 0
    idle: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {k: v for k, v in self.__dict__.items() if k != "extra"} | self.extra


def make_source(protocol: str, conf: ServerConfig, use_idle: bool = True) -> MailSource:
    """An IMAP or POP3 session for a server."""
    if protocol == "imap":
        return ImapSource(conf, use_idle)
    if protocol == "pop3":
        return Pop3Source(conf)
    raise MailError(f"unknown mail protocol {protocol!r}")


class AccountFetcher:
    """Fetches one account forever; transport errors back off and retry, nothing is acknowledged unspooled."""

    def __init__(self, name: str, protocol: str, conf: ServerConfig, pipeline: IntakePipeline,
                 executor: Executor, meta: dict[str, Any], poll_s: float, use_idle: bool = True,
                 on_spooled: Callable[[], None] | None = None, batch: int = BATCH) -> None:
        self.name, self.protocol, self.conf = name, protocol, conf
        self.pipeline, self.executor, self.meta = pipeline, executor, meta
        self.poll_s, self.use_idle, self.batch = poll_s, use_idle, batch
        self.on_spooled = on_spooled or (lambda: None)
        self.status = AccountStatus(name, protocol)
        self.wake = asyncio.Event()

    async def _run(self, fn: Callable, *args: Any) -> Any:
        # Keep the executor's own future: cancelling the awaiting task cancels only asyncio's wrapper,
        # while the thread goes on using the connection.
        self._inflight = self.executor.submit(functools.partial(fn, *args))
        return await asyncio.wrap_future(self._inflight)

    async def _close(self, source: MailSource) -> None:
        # Logging out from a second thread while the first still waits in IDLE would steal that
        # thread's answer and leave it blocked: let the running call finish first.
        inflight = getattr(self, "_inflight", None)
        if inflight is not None and not inflight.done():
            await asyncio.wait({asyncio.wrap_future(inflight)}, timeout=IDLE_SLICE_S + self.conf.timeout_s)
        try:
            await self._run(source.close)
        except RuntimeError:  # the executor is already shut down (the service is stopping)
            source.close()

    async def run(self) -> None:
        """Fetch until cancelled."""
        delay = RETRY_FIRST_S
        while True:
            try:
                more = await self.cycle()
                delay = RETRY_FIRST_S
                if not more:
                    await self._wait_for_news()
            except MailError as exc:
                self.status.state, self.status.last_error = "error", str(exc)
                self.status.last_error_at = time.time()
                log.warning("mail account=%s fetch failed: %s (retry in %.0fs)", self.name, exc, delay)
                await self._sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    async def cycle(self) -> bool:
        """One session; True if more waits for a new session at once (POP3 commits deletions at QUIT)."""
        source = make_source(self.protocol, self.conf, self.use_idle)
        await self._run(source.connect)
        try:
            while True:
                self.status.state, self.status.last_fetch_at = "fetching", time.time()
                more = await self._fetch_all(source)
                if self.protocol == "pop3":
                    self._ok()
                    return more
                self._ok()
                if not source.can_wait:
                    return False
                self.status.idle = True
                await self._idle(source)  # IDLE on the same connection, then look again
                self.status.idle = False
        finally:
            self.status.idle = False
            await self._close(source)

    def _ok(self) -> None:
        self.status.state, self.status.last_ok_at, self.status.last_error = "ok", time.time(), ""

    async def _fetch_all(self, source: MailSource) -> bool:
        ids = await self._run(source.pending)
        for start in range(0, len(ids), self.batch):
            chunk = ids[start:start + self.batch]
            got = await self._run(source.fetch, chunk)
            if got:
                src = f"{self.protocol}:{self.name}"
                await self.pipeline.accept([SpoolEntry(raw, src, {**self.meta, "uid": uid}) for uid, raw in got])
                # Spooled and fsynced: now, and only now, the server may forget them.
                await self._run(source.ack, [uid for uid, _ in got])
                self.status.fetched += len(got)
                self.on_spooled()
            if self.protocol == "pop3":  # the session ended with QUIT
                return start + self.batch < len(ids)
        return False

    async def _idle(self, source: MailSource) -> None:
        deadline = time.monotonic() + max(self.poll_s, IDLE_SLICE_S)
        while time.monotonic() < deadline and not self.wake.is_set():
            if await self._run(source.wait, IDLE_SLICE_S):
                return
        self.wake.clear()

    async def _wait_for_news(self) -> None:
        await self._sleep(self.poll_s)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self.wake.clear()
