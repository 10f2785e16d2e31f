"""The running appliance: database, store, bus, metrics and the supervised services, wired together."""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import time

import psutil

from appliance.backup import make_backup, prune_backups
from appliance.bus import Bus
from appliance.config import Config
from appliance.datadir import DataDir
from appliance.db import Database
from appliance.errors import NotInitialisedError
from appliance.looplag import LoopLagMonitor
from appliance.metrics import Metrics
from appliance.security import tls
from appliance.services.console import ConsoleService
from appliance.services.fax import FaxService
from appliance.services.mail import MailService
from appliance.services.pbx_bridge import PbxBridgeService
from appliance.services.registry import build_specs
from appliance.services.scheduler import SchedulerService
from appliance.services.snmp import SnmpService
from appliance.services.sms import SmsService
from appliance.services.webui import WebService
from appliance.store import DocumentStore
from appliance.supervisor import ServiceContext, Supervisor
from appliance.systemd_notify import Notifier
from appliance.webui.app import create_app

log = logging.getLogger(__name__)
VERSION = "0.1.0"


class Appliance:
    """Everything that runs inside `python -m appliance run`."""

    def __init__(self, config: Config, notifier: Notifier | None = None) -> None:
        self.config = config
        self.data = DataDir(config.data_dir)
        if not self.data.initialised:
            raise NotInitialisedError(f"{config.data_dir} is not initialised: run `python -m appliance init`")
        self.notifier = notifier or Notifier()
        self.bus = Bus()
        self.metrics = Metrics()
        self.lag = LoopLagMonitor()
        self.db: Database | None = None
        self.store = DocumentStore(self.data.store, self.data.read_key(self.data.store_key))
        self.supervisor: Supervisor | None = None
        self._lag_task: asyncio.Task | None = None
        self.started_at = time.monotonic()

    def _backup_now(self):
        path = make_backup(self.data, self.config.database_url)
        prune_backups(self.data.backups, self.config.get("backup", "keep_days"))
        return path

    def _register_metrics(self) -> None:
        proc = psutil.Process()
        m = self.metrics
        m.gauge_fn("appliance.uptime_s", lambda: time.monotonic() - self.started_at, "seconds since start")
        m.gauge_fn("appliance.loop_lag_p99_ms", lambda: self.lag.percentile_ms(99), "event-loop lag p99, ms")
        m.gauge_fn("appliance.rss_mb", lambda: proc.memory_info().rss / 1e6, "resident memory, MB")
        m.gauge_fn("appliance.db_mb", lambda: self.db.size_bytes() / 1e6 if self.db else 0, "database size, MB")
        m.gauge_fn("appliance.disk_free_gb", lambda: shutil.disk_usage(self.data.root).free / 1e9,
                   "free disk in the data directory, GB")
        m.gauge_fn("appliance.load1", lambda: os.getloadavg()[0], "1-minute load average")

    async def start(self) -> None:
        """Open the database (migrating it), then start every service."""
        loop = asyncio.get_running_loop()
        self.db = Database(self.config.database_url)
        applied = await loop.run_in_executor(None, self._migrate)
        if applied:
            log.info("database migrated applied=%s", ",".join(applied))
        self._register_metrics()
        self._lag_task = asyncio.create_task(self.lag.run(), name="loop-lag")
        ssl_ctx = tls.server_context(self.data.cert, self.data.tls_key)
        shared = {"make_app": self._make_app, "ssl_context": ssl_ctx, "make_backup": self._backup_now,
                  "supervisor_snapshot": lambda: self.supervisor.snapshot() if self.supervisor else [],
                  "data_dir": self.data, "hardware": {},
                  "config": self.config, "supervisor": lambda: self.supervisor, "version": VERSION}

        def ctx(section: str) -> ServiceContext:
            return ServiceContext(self.config.section(section), self.bus, self.db, self.store, self.metrics, shared)

        # Each built service with the config section it reads; build_specs orders them and fills in the rest.
        built = {"scheduler": (SchedulerService, "backup"), "pbx_bridge": (PbxBridgeService, "pbx"),
                 "fax": (FaxService, "fax"), "mail": (MailService, "mail"), "sms": (SmsService, "sms"),
                 "snmp": (SnmpService, "snmp"), "console": (ConsoleService, "console"), "webui": (WebService, "web")}
        specs = build_specs({name: cls for name, (cls, _) in built.items()},
                            {name: ctx(section) for name, (_, section) in built.items()})
        sup = self.config.section("supervisor")
        self.supervisor = Supervisor(specs, self.bus, self.notifier, sup["heartbeat_timeout_s"],
                                     sup["stop_timeout_s"])
        await self.supervisor.start()

    def _migrate(self) -> list[str]:
        with self.db.peewee.connection_context():
            return self.db.migrate()

    def _make_app(self):
        return create_app(self.config, self.db, self.bus, self.metrics, self.supervisor,
                          self.data.read_key(self.data.session_key))

    @property
    def web_port(self) -> int:
        """The port the web UI really listens on."""
        web = self.supervisor.service("webui") if self.supervisor else None
        return web.port if web else self.config.get("web", "port")

    def url(self) -> str:
        """The HTTPS URL people should open."""
        host = self.config.get("web", "host")
        shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
        return f"https://{shown}:{self.web_port}/"

    async def stop(self) -> None:
        """Stop services, then release the database."""
        if self.supervisor:
            await self.supervisor.shutdown()
        if self._lag_task:
            self._lag_task.cancel()
        if self.db:
            self.db.close()


async def run_until_signal(config: Config) -> int:
    """Run until SIGTERM or SIGINT; returns the exit code."""
    appliance = Appliance(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await appliance.start()
    print(f"appliance ready: {appliance.url()}  (also https://localhost:{appliance.web_port}/)", flush=True)
    print(f"TLS certificate SHA-256 fingerprint: {tls.fingerprint(appliance.data.cert)}", flush=True)
    print("admin password: printed once at first boot; forgot it? "
          "`.venv/bin/python -m appliance reset-admin-password`", flush=True)
    await stop.wait()
    log.info("stopping")
    await appliance.stop()
    return 0
