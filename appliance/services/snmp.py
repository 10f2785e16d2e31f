"""The SNMP agent as a supervised service: serves APPLIANCE-MIB live and sends notifications.

Values come from the supervisor snapshot (`shared["supervisor_snapshot"]`), the metrics registry
and the hardware rows (`shared["hardware"]`); the names are documented in appliance/snmp/const.py.
"""
from __future__ import annotations

import asyncio
import logging
import platform
import socket
import time
from typing import Any

from pysnmp.proto import rfc1902

from appliance.bus import EventKind
from appliance.security.secrets import SecretBox, SecretError
from appliance.snmp import const, credentials, receivers
from appliance.snmp.agent import Agent, AgentSettings
from appliance.snmp.const import Oid
from appliance.snmp.errors import ReceiverError, SnmpError
from appliance.snmp.receivers import Target
from appliance.snmp.view import Indices, Inputs, MibView, SystemInfo, build_view, display, ticks
from appliance.snmp.watch import ConditionWatch, Notice, ServiceWatch
from appliance.supervisor import Service, ServiceContext

log = logging.getLogger(__name__)

VIEW_TTL_S = 0.5        # one view serves a burst of requests (a walk sees one picture)
WATCH_INTERVAL_S = 1.0  # how often hardware, disk, quarantine and queues are compared
EVENT_POLL_S = 0.05     # service events wait at most this long before their notification

# Which columns of a row a notification carries (the OBJECTS clause of the MIB).
NOTICE_COLUMNS: dict[Oid, tuple[Oid, tuple[int, ...]]] = {
    const.MODEM_LOST: (const.HARDWARE_ENTRY, (2, 4, 5)),
    const.MODEM_BACK: (const.HARDWARE_ENTRY, (2, 4, 5)),
    const.QUARANTINE_GROWING: (const.INTAKE_ENTRY, (2, 4)),
    const.QUEUE_SERVICE_LEVEL_LOW: (const.QUEUE_ENTRY, (2, 8, 9)),
}


def parse_receivers(text: str) -> list[tuple[str, int]]:
    """("host", port) pairs from the comma-separated trap_receivers value."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        host, sep, port = part.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
            raise ReceiverError(f"snmp.trap_receivers: {part!r} is not host:port")
        out.append((host.strip("[]"), int(port)))
    return out


class SnmpService(Service):
    """SNMP v3 (and optionally v2c) agent with our MIB, and the notification sender."""

    name = "snmp"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.agent: Agent | None = None
        self.port: int | None = None
        self.started_at = time.monotonic()
        self.indices = Indices()
        self.services = ServiceWatch()
        cfg = ctx.config
        self.conditions = ConditionWatch(cfg.get("disk_low_mb", 1024), cfg.get("quarantine_step", 10),
                                         cfg.get("service_level_target_pct", 80))
        self._view: MibView | None = None
        self._view_at = 0.0
        self._sub = None
        self._reload_pending = False
        self._box: SecretBox | None = None
        self._config_targets: list[Target] = []
        self.receiver_errors: dict[str, str] = {}   # target name -> why it gets nothing
        version = str(ctx.shared.get("version", ""))
        self.system = SystemInfo(
            descr=f"Contact-center appliance {version} on {platform.system()} {platform.release()}",
            name=socket.gethostname(), contact=cfg.get("contact", ""), location=cfg.get("location", ""))

    # --- life -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Load or make the v3 credentials, bind the port, subscribe to service states."""
        cfg, loop = self.ctx.config, asyncio.get_running_loop()
        data = self.ctx.shared.get("data_dir")
        if data is None:
            raise SnmpError("the SNMP agent needs shared['data_dir'] for its keys")
        creds, made = await loop.run_in_executor(None, credentials.ensure, data.snmp_keys)
        if made:
            log.warning("snmp v3 credentials were missing and have been generated in %s/keys/snmp.json",
                        data.root)
        creds = credentials.with_overrides(creds, cfg, "the [snmp] configuration")
        boots = await loop.run_in_executor(None, credentials.next_engine_boots,
                                           data.root / "snmp-engine-boots")
        community = cfg.get("community", "")
        version = cfg.get("trap_version", "auto")
        if version == "auto":
            version = "v2c" if community else "v3"
        if version == "v2c" and not community:
            raise SnmpError("snmp.trap_version is v2c but no snmp.community is set")
        # The configuration's receivers use the agent's own community (v2c) or v3 user.
        self._config_targets = [Target(f"config-{i}", host, port, version, community, creds.user, creds.auth,
                                       creds.priv)
                                for i, (host, port) in enumerate(parse_receivers(cfg.get("trap_receivers", "")))]
        if data.store_key.exists():  # absent only in a bare test directory: then no console receivers
            self._box = SecretBox(await loop.run_in_executor(None, data.read_key, data.store_key))
        settings = AgentSettings(cfg.get("host", "0.0.0.0"), cfg.get("port", 1161), creds, boots,
                                 community, cfg.get("trap_type", "trap"))
        self.agent = Agent(settings, self.view)
        self.port = await self.agent.open()
        self.started_at = time.monotonic()
        self._sub = self.ctx.bus.subscribe(EventKind.SERVICE_STATE, EventKind.SNMP_RECEIVERS_CHANGED)
        await self.reload_receivers()
        log.info("snmp agent listening host=%s port=%d v2c=%s receivers=%d", settings.host, self.port,
                 bool(community), len(self.agent.usable_targets()))

    async def reload_receivers(self) -> None:
        """Send to the configuration's receivers plus the enabled ones of the admin console, as they are now."""
        assert self.agent is not None
        targets, errors = list(self._config_targets), {}
        if self.ctx.db is not None and self._box is not None:
            try:
                rows = await self.ctx.db.call(receivers.all_rows)
            except Exception as exc:  # the database may be briefly away: keep sending where we did
                raise SnmpError(f"the notification receivers cannot be read from the database: {exc!r}") from exc
            for row in rows:
                if not row.enabled:
                    continue
                try:
                    targets.append(receivers.target_of(row, self._box))
                except SecretError as exc:
                    errors[f"receiver-{row.id}"] = f"its keys cannot be read ({exc}); enter them again"
        resolved = []
        for target in targets:
            try:
                resolved.append((target, await self._resolve(target)))
            except OSError as exc:
                errors[target.name] = f"{target.host} does not resolve: {exc.strerror or exc}"
                log.warning("snmp trap receiver %s:%d not resolved: %s", target.host, target.port, exc)
        self.agent.set_targets(resolved)
        errors.update({n: c.error for n, c in self.agent.targets.items() if c.error})
        self.receiver_errors = errors

    async def _reload_or_retry(self) -> None:
        try:
            await self.reload_receivers()
            self._reload_pending = False
        except SnmpError as exc:  # tried again on the next pass; the old receivers keep getting notifications
            log.warning("snmp receivers not reloaded, retrying: %s", exc)
            await asyncio.sleep(WATCH_INTERVAL_S)

    async def _resolve(self, target: Target) -> tuple[str, int]:
        # Resolve here: pysnmp's sendto would otherwise resolve names on the event loop.
        infos = await asyncio.get_running_loop().getaddrinfo(target.host, target.port, family=socket.AF_INET,
                                                             type=socket.SOCK_DGRAM)
        return infos[0][4][0], target.port

    async def send_test(self, receiver_id: int) -> str:
        """Send receiverTest to one console receiver (its current settings); a sentence for the page."""
        if self.agent is None:
            raise SnmpError("the SNMP agent is not running")
        await self.reload_receivers()
        name = f"receiver-{receiver_id}"
        if name in self.receiver_errors:
            raise SnmpError(self.receiver_errors[name])
        if name not in self.agent.targets:
            raise SnmpError("this receiver is disabled: enable it first")
        view = self.view(fresh=True)
        version_oid = const.APP_SYSTEM + (const.APP_VERSION, 0)
        sent = self.agent.notify(const.RECEIVER_TEST, ticks(time.monotonic() - self.started_at),
                                 [(version_oid, view.get(version_oid))], only=name)
        if not sent:
            raise SnmpError("the test notification could not be sent; see the log")
        address = self.agent.targets[name].address
        return f"receiverTest sent to {address[0]}:{address[1]}"

    async def run(self) -> None:
        """Send notifications for service events and polled conditions; beat."""
        assert self._sub is not None
        for svc in self._snapshot():  # services already down when the agent starts
            self._service_event({"name": svc["name"], "state": svc["state"], "error": svc["last_error"]})
        next_poll = 0.0
        while True:
            self.beat()
            # Drain without awaiting the queue: wait_for(queue.get()) can swallow a cancellation
            # in Python 3.11 when an event arrives at the same moment (the supervisor publishes
            # one just before it stops us).
            while not self._sub.queue.empty():
                event = self._sub.queue.get_nowait()
                if event.kind == EventKind.SNMP_RECEIVERS_CHANGED:
                    # At once, in order: a service failing just after a receiver was removed is not
                    # reported to it any more.
                    self._reload_pending = True
                    await self._reload_or_retry()
                else:
                    self._service_event(event.data)
            if self._reload_pending:
                await self._reload_or_retry()
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + WATCH_INTERVAL_S
                for notice in self.conditions.update(self._metrics(), self._hardware()):
                    self._send(notice)
            await asyncio.sleep(EVENT_POLL_S)

    async def stop(self) -> None:
        """Close the socket and the subscription."""
        if self._sub is not None:
            self._sub.close()
        if self.agent is not None:
            self.agent.close()

    def health(self) -> dict[str, Any]:
        """Port, traffic and notification figures for the admin console."""
        a = self.agent
        return {"port": self.port, "bad_packets": a.bad_packets if a else 0,
                "notifications_sent": a.notifications_sent if a else 0,
                "notification_errors": a.notification_errors if a else 0,
                "receivers": len(a.usable_targets()) if a else 0, "receiver_errors": dict(self.receiver_errors)}

    # --- the view ---------------------------------------------------------------------------------
    def _snapshot(self) -> list[dict[str, Any]]:
        fn = self.ctx.shared.get("supervisor_snapshot")
        return list(fn()) if fn else []

    def _metrics(self) -> dict[str, float]:
        return self.ctx.metrics.read() if self.ctx.metrics is not None else {}

    def _hardware(self) -> dict[str, Any]:
        return dict(self.ctx.shared.get(const.HARDWARE_KEY) or {})

    def view(self, fresh: bool = False) -> MibView:
        """The current view, rebuilt when older than VIEW_TTL_S (or when `fresh`)."""
        now = time.monotonic()
        if fresh or self._view is None or now - self._view_at > VIEW_TTL_S:
            inputs = Inputs(self.system, now - self.started_at, str(self.ctx.shared.get("version", "")),
                            self._snapshot(), self._metrics(), self._hardware(),
                            self.ctx.config.get("disk_low_mb", 1024),
                            self.agent.counters() if self.agent else ())
            self._view, self._view_at = build_view(inputs, self.indices), now
        return self._view

    # --- notifications ----------------------------------------------------------------------------
    def _service_event(self, data: dict[str, Any]) -> None:
        notice = self.services.update(str(data.get("name", "")), str(data.get("state", "")))
        if notice is None:
            return
        names = [s["name"] for s in self._snapshot()]
        if notice.subject not in names:
            return
        # The event's own state and error: the service may have moved on by the time we send.
        i, e = names.index(notice.subject) + 1, const.SERVICE_ENTRY
        binds: list[tuple[Oid, Any]] = [
            (e + (2, i), display(notice.subject, 64)),
            (e + (3, i), rfc1902.Integer32(const.SERVICE_STATES.get(str(data.get("state")), 6)))]
        if notice.trap == const.SERVICE_FAILED:
            binds.append((e + (6, i), display(data.get("error") or "")))
        self._emit(notice.trap, binds)

    def _send(self, notice: Notice) -> None:
        view = self.view(fresh=True)
        if notice.trap == const.DISK_LOW:
            oids = [const.APP_SYSTEM + (col, 0) for col in (const.APP_DISK_FREE, const.APP_DISK_LOW_THRESHOLD)]
        else:
            entry, columns = NOTICE_COLUMNS[notice.trap]
            table = {const.HARDWARE_ENTRY: self.indices.hardware, const.INTAKE_ENTRY: self.indices.intake,
                     const.QUEUE_ENTRY: self.indices.queues}[entry]
            i = table.index(notice.subject)
            oids = [entry + (c, i) for c in columns]
        self._emit(notice.trap, [(o, view.get(o)) for o in oids if view.get(o) is not None])

    def _emit(self, trap: Oid, binds: list[tuple[Oid, Any]]) -> None:
        if self.agent is None:
            return
        uptime = ticks(time.monotonic() - self.started_at)
        if self.agent.notify(trap, uptime, [(o, v) for o, v in binds if v is not None]):
            if self.ctx.metrics is not None:
                self.ctx.metrics.inc("snmp.notifications")
            log.info("snmp notification sent trap=%s", ".".join(map(str, trap)))

