"""The Service base class and the supervisor that keeps every service running.

Shape borrowed from Home Assistant Supervisor's plugin watchdog: named limits, one ordered list of
services, and a failing service marks the appliance degraded instead of taking it down.
"""
from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

from appliance.bus import Bus, Event, EventKind
from appliance.systemd_notify import Notifier

log = logging.getLogger(__name__)

BACKOFF_INITIAL_S = 0.1      # first restart almost at once: most crashes are one-off
BACKOFF_FACTOR = 2.0
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0        # running this long forgives earlier crashes
CRASH_LOOP_LIMIT = 5         # more crashes than this inside the window: give up, mark failed
CRASH_LOOP_WINDOW_S = 60.0
MONITOR_INTERVAL_S = 0.05
START_TIMEOUT_S = 30.0
SERVICE_STOP_TIMEOUT_S = 5.0


class ServiceState(str, enum.Enum):
    """Where a service is in its life."""

    DISABLED = "disabled"
    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass
class ServiceContext:
    """What a service is given: its config section and the shared parts it may use."""

    config: Mapping[str, Any]
    bus: Bus
    db: Any = None
    store: Any = None
    metrics: Any = None
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. the supervisor view for the web UI


class Service:
    """Base of every supervised service: `start` acquires, `run` works and beats, `stop` releases."""

    name: ClassVar[str] = "service"
    heartbeat_timeout_s: ClassVar[float | None] = None  # None: the supervisor's default
    beat_interval_s: ClassVar[float] = 1.0

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.last_beat = time.monotonic()

    def beat(self) -> None:
        """Tell the supervisor this service is alive; call at least once per heartbeat window."""
        self.last_beat = time.monotonic()

    async def start(self) -> None:
        """Acquire resources (open ports, devices). Raising here counts as a crash."""

    async def run(self) -> None:
        """Do the work until cancelled, calling `beat()` regularly. Default: just beat."""
        while True:
            self.beat()
            await asyncio.sleep(self.beat_interval_s)

    async def stop(self) -> None:
        """Release resources; called after `run` is cancelled."""

    def health(self) -> dict[str, Any]:
        """Service-specific status for the admin console and SNMP."""
        return {}


@dataclass
class ServiceSpec:
    """An entry of the ordered service list: how to build it, or why it is disabled."""

    name: str
    factory: Callable[[], Service] | None
    disabled_reason: str = ""
    heartbeat_timeout_s: float | None = None


@dataclass
class ServiceRecord:
    """The supervisor's bookkeeping for one service."""

    spec: ServiceSpec
    state: ServiceState = ServiceState.STOPPED
    restarts: int = 0
    started_at: float | None = None
    last_error: str = ""
    last_error_at: float | None = None
    service: Service | None = None
    task: asyncio.Task | None = None
    backoff_s: float = BACKOFF_INITIAL_S
    next_start_at: float = 0.0
    crashes: deque = field(default_factory=lambda: deque(maxlen=CRASH_LOOP_LIMIT + 1))

    def snapshot(self, now: float, wall_now: float) -> dict[str, Any]:
        """Plain data for the web, SNMP and /healthz."""
        up = now - self.started_at if self.started_at and self.state == ServiceState.RUNNING else 0.0
        return {
            "name": self.spec.name,
            "state": self.state.value,
            "restarts": self.restarts,
            "uptime_s": round(up, 1),
            "last_error": self.last_error or self.spec.disabled_reason,
            "last_error_at": (wall_now - (now - self.last_error_at)) if self.last_error_at else None,
            "health": self.service.health() if self.service and self.state == ServiceState.RUNNING else {},
        }


class Supervisor:
    """Starts services in order, restarts crashed or hung ones with back-off, pings systemd."""

    def __init__(self, specs: list[ServiceSpec], bus: Bus, notifier: Notifier | None = None,
                 heartbeat_timeout_s: float = 10.0, stop_timeout_s: float = 10.0) -> None:
        self.records = {s.name: ServiceRecord(s) for s in specs}
        self.bus = bus
        self.notifier = notifier or Notifier({})
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.last_monitor_at = time.monotonic()
        self._monitor_task: asyncio.Task | None = None
        self._watchdog_task: asyncio.Task | None = None
        self._stopping = False

    # --- life of the whole set -------------------------------------------------------------
    async def start(self) -> None:
        """Start every enabled service in declared order, then watch them."""
        for rec in self.records.values():
            if rec.spec.factory is None:
                self._set_state(rec, ServiceState.DISABLED)
            else:
                await self._start_one(rec)
        self._monitor_task = asyncio.create_task(self._monitor(), name="supervisor-monitor")
        if self.notifier.watchdog_s:
            self._watchdog_task = asyncio.create_task(self._watchdog(), name="supervisor-watchdog")
        self.notifier.notify("READY=1\nSTATUS=" + self.status_line())

    async def shutdown(self) -> None:
        """Stop everything in reverse order, bounded by stop_timeout_s in total."""
        self._stopping = True
        self.notifier.notify("STOPPING=1")
        for task in (self._monitor_task, self._watchdog_task):
            if task:
                task.cancel()
        deadline = time.monotonic() + self.stop_timeout_s
        for rec in reversed(list(self.records.values())):
            left = max(0.1, deadline - time.monotonic())
            await self._stop_one(rec, min(left, SERVICE_STOP_TIMEOUT_S))
            if rec.state != ServiceState.DISABLED:
                self._set_state(rec, ServiceState.STOPPED)

    # --- queries ------------------------------------------------------------------------------
    def snapshot(self) -> list[dict[str, Any]]:
        """Every service's state, in start order."""
        now, wall = time.monotonic(), time.time()
        return [rec.snapshot(now, wall) for rec in self.records.values()]

    @property
    def degraded(self) -> bool:
        """True when an enabled service is not running."""
        return any(r.state in (ServiceState.FAILED, ServiceState.BACKOFF, ServiceState.STARTING)
                   for r in self.records.values())

    @property
    def healthy(self) -> bool:
        """The supervisor's own health: its monitor loop is turning."""
        return time.monotonic() - self.last_monitor_at < max(1.0, 20 * MONITOR_INTERVAL_S)

    def status_line(self) -> str:
        """One line for systemd's STATUS=."""
        counts: dict[str, int] = {}
        for rec in self.records.values():
            counts[rec.state.value] = counts.get(rec.state.value, 0) + 1
        return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))

    def service(self, name: str) -> Service | None:
        """The running instance of a service, if any."""
        rec = self.records.get(name)
        return rec.service if rec else None

    # --- actions ------------------------------------------------------------------------------
    async def restart(self, name: str) -> None:
        """An operator's restart: also brings a failed service back, with fresh back-off."""
        rec = self.records[name]
        if rec.spec.factory is None:
            raise ValueError(f"service {name} is disabled: {rec.spec.disabled_reason}")
        await self._stop_one(rec, SERVICE_STOP_TIMEOUT_S)
        rec.crashes.clear()
        rec.backoff_s = BACKOFF_INITIAL_S
        rec.restarts += 1
        await self._start_one(rec)

    def kill(self, name: str) -> None:
        """Test and diagnostics hook: cancel the service's task as if it had died."""
        rec = self.records[name]
        if rec.task:
            rec.task.cancel()

    # --- internals ----------------------------------------------------------------------------
    def _set_state(self, rec: ServiceRecord, state: ServiceState) -> None:
        if rec.state == state:
            return
        previous, rec.state = rec.state, state
        log.info("service=%s state=%s previous=%s", rec.spec.name, state.value, previous.value)
        self.bus.publish(Event(EventKind.SERVICE_STATE, {
            "name": rec.spec.name, "state": state.value, "previous": previous.value,
            "error": rec.last_error}))
        self.notifier.notify("STATUS=" + self.status_line())

    async def _start_one(self, rec: ServiceRecord) -> None:
        assert rec.spec.factory is not None
        self._set_state(rec, ServiceState.STARTING)
        try:
            service = rec.spec.factory()
            await asyncio.wait_for(service.start(), START_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure to start is a crash of that service only
            self._crashed(rec, f"start failed: {exc!r}")
            return
        service.beat()
        rec.service = service
        rec.started_at = time.monotonic()
        rec.task = asyncio.create_task(service.run(), name=f"service-{rec.spec.name}")
        self._set_state(rec, ServiceState.RUNNING)

    async def _stop_one(self, rec: ServiceRecord, timeout: float) -> None:
        task, service = rec.task, rec.service
        rec.task = None
        if task and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=timeout)
        if service:
            try:
                await asyncio.wait_for(service.stop(), timeout)
            except Exception as exc:  # a stop that fails must not block the others
                log.warning("service=%s stop failed: %r", rec.spec.name, exc)
        rec.service = None

    def _crashed(self, rec: ServiceRecord, reason: str) -> None:
        now = time.monotonic()
        log.error("service=%s crashed: %s", rec.spec.name, reason)
        if rec.started_at and now - rec.started_at >= STABLE_AFTER_S:
            rec.backoff_s = BACKOFF_INITIAL_S
            rec.crashes.clear()
        rec.last_error, rec.last_error_at = reason, now
        rec.crashes.append(now)
        recent = [t for t in rec.crashes if now - t <= CRASH_LOOP_WINDOW_S]
        if rec.service:
            # Release what it held (ports, devices) before trying again; do not wait here.
            asyncio.create_task(self._stop_one(rec, SERVICE_STOP_TIMEOUT_S))
        if len(recent) > CRASH_LOOP_LIMIT:
            self._set_state(rec, ServiceState.FAILED)
            return
        rec.next_start_at = now + rec.backoff_s
        rec.backoff_s = min(rec.backoff_s * BACKOFF_FACTOR, BACKOFF_MAX_S)
        self._set_state(rec, ServiceState.BACKOFF)

    async def _monitor(self) -> None:
        while True:
            now = time.monotonic()
            self.last_monitor_at = now
            for rec in self.records.values():
                if rec.state == ServiceState.RUNNING and rec.task is not None:
                    if rec.task.done():
                        exc = None if rec.task.cancelled() else rec.task.exception()
                        self._crashed(rec, repr(exc) if exc else "task ended or was killed")
                        continue
                    limit = rec.spec.heartbeat_timeout_s or rec.service.heartbeat_timeout_s \
                        or self.heartbeat_timeout_s
                    if now - rec.service.last_beat > limit:
                        rec.task.cancel()
                        self._crashed(rec, f"no heartbeat for {now - rec.service.last_beat:.1f}s")
                elif rec.state == ServiceState.BACKOFF and now >= rec.next_start_at and not self._stopping:
                    rec.restarts += 1
                    await self._start_one(rec)
            await asyncio.sleep(MONITOR_INTERVAL_S)

    async def _watchdog(self) -> None:
        # Ping only while our own monitor turns: a wedged supervisor must let systemd restart us.
        interval = self.notifier.watchdog_s / 2
        while True:
            if self.healthy:
                self.notifier.notify("WATCHDOG=1")
            await asyncio.sleep(interval)
