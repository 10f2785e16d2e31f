"""The serial console as a supervised service: the menu on the configured tty (a pty in development),
and the control socket through which every console reaches this running appliance."""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from appliance import accounts
from appliance.console.control import ControlServer, LogRing, socket_path
from appliance.console.session import serve_tty
from appliance.console.terminal import TICK_S, open_pty, open_serial
from appliance.logs import LogfmtFormatter
from appliance.supervisor import Service, ServiceState

log = logging.getLogger(__name__)
NO_TTY = "none"
DIAGNOSABLE = ("mail", "fax", "sms")  # services with a self-test (`testable` and `diagnose`)


class ConsoleService(Service):
    """Serves console sessions on a tty and answers the control socket."""

    name = "console"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.config = ctx.shared["config"]
        self.tty_path = ""
        self.sessions = 0
        self._fds: list[int] = []
        self._stop = threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._worker: asyncio.Future | None = None
        self.ring = LogRing()
        self.ring.setFormatter(LogfmtFormatter())
        self.control = ControlServer(socket_path(self.config.data_dir), {
            "status": self._status, "restart": self._restart, "logs": self._logs,
            "diagnose": self._diagnose, "testable": self._testable,
            "reset-admin-password": self._reset_admin_password})

    # --- life -------------------------------------------------------------------------------------
    async def start(self) -> None:
        logging.getLogger().addHandler(self.ring)
        await self.control.start()
        tty = self.ctx.config["tty"]
        if tty == NO_TTY:
            return
        if tty:
            fd = open_serial(tty, self.ctx.config["baud"])
            self._fds, self.tty_path = [fd], tty
        else:
            master, slave, path = open_pty()
            self._fds, self.tty_path = [master, slave], path
        log.info("serial console on %s (connect a terminal to it)", self.tty_path)

    async def run(self) -> None:
        if not self._fds:
            await super().run()
            return
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="console")
        worker = self._worker = asyncio.get_running_loop().run_in_executor(
            self._executor, serve_tty, self.config, self._fds[0], self._stop, self._session_ended)
        try:
            while not worker.done():
                self.beat()
                await asyncio.wait({worker}, timeout=self.beat_interval_s)
            worker.result()  # a session that crashed is this service's crash
        finally:
            self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        await self.control.stop()
        logging.getLogger().removeHandler(self.ring)
        if self._worker is not None:
            # The session thread notices the stop within one read tick; close its fds only after that.
            await asyncio.wait({self._worker}, timeout=2 * TICK_S + 1)
            if self._worker.done() and not self._worker.cancelled():
                self._worker.exception()  # retrieved: a crash was already reported by run()
        if self._executor:
            self._executor.shutdown(wait=False)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []

    def health(self) -> dict[str, Any]:
        return {"tty": self.tty_path or NO_TTY, "sessions": self.sessions}

    def _session_ended(self, reason: str) -> None:
        self.sessions += 1
        log.info("console session ended reason=%s", reason)

    # --- control requests -------------------------------------------------------------------------
    def _supervisor(self):
        return self.ctx.shared["supervisor"]()

    async def _status(self, request: dict) -> dict:
        sup = self._supervisor()
        web = sup.service("webui")
        return {"version": self.ctx.shared.get("version", "?"), "degraded": sup.degraded,
                "services": sup.snapshot(), "metrics": self.ctx.metrics.read() if self.ctx.metrics else {},
                "web_port": getattr(web, "port", None)}

    async def _restart(self, request: dict) -> dict:
        name = str(request.get("name", ""))
        sup = self._supervisor()
        if name not in sup.records:
            raise LookupError(f"no service named {name!r}")
        if sup.records[name].spec.factory is None:
            raise ValueError(f"{name} is disabled: {sup.records[name].spec.disabled_reason}")
        if name == self.name:
            raise ValueError("the console cannot restart itself; use the web console's Services page")
        await sup.restart(name)
        return {"state": sup.records[name].state.value}

    async def _logs(self, request: dict) -> dict:
        count = request.get("lines", 50)
        if not isinstance(count, int):
            raise ValueError("lines must be a number")
        return {"lines": self.ring.tail(min(max(count, 0), self.ring.lines.maxlen or 0))}

    def _why_not_testable(self, name: str) -> str | None:
        sup = self._supervisor()
        rec = sup.records.get(name)
        if rec is None:
            return f"no service named {name!r}"
        if rec.spec.factory is None:
            return rec.spec.disabled_reason
        if rec.state != ServiceState.RUNNING or rec.service is None:
            return f"the {name} service is {rec.state.value}"
        if getattr(rec.service, "diagnose", None) is None:
            return f"the {name} service has no self-test"
        return None

    async def _testable(self, request: dict) -> dict:
        """What the diagnostics menu can offer now: [service, item, label], and why the rest cannot be tested."""
        items, unavailable = [], []
        for name in DIAGNOSABLE:
            why = self._why_not_testable(name)
            if why:
                unavailable.append([name, why])
                continue
            service = self._supervisor().records[name].service
            items += [[name, item, label] for item, label in service.testable()]
        return {"items": items, "unavailable": unavailable}

    async def _diagnose(self, request: dict) -> dict:
        name, item = str(request.get("service", "")), request.get("item")
        if self._supervisor().records.get(name) is None:
            raise LookupError(f"no service named {name!r}")
        why = self._why_not_testable(name)
        if why:
            return {"lines": [f"not available: {why}"]}
        service = self._supervisor().records[name].service
        return {"lines": [str(line) for line in await service.diagnose(None if item is None else str(item))]}

    async def _reset_admin_password(self, request: dict) -> dict:
        password = await self.ctx.db.call(accounts.reset_password, accounts.ADMIN_USERNAME)
        log.warning("admin password reset from the serial console")
        return {"password": password}
