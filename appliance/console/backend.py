"""What the console menu can do, as plain blocking calls: the running appliance through the control
socket, the host through `SystemRunner`, the data directory directly when the appliance is stopped.

The menu engine (`menu.py`) only sees this class's methods, so tests can drive it with a fake.
"""
from __future__ import annotations

import datetime
import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.console import auth, network
from appliance.console.control import ControlClient, socket_path
from appliance.console.errors import ControlError, ControlUnavailable, InputError
from appliance.console.system import Step, SystemRunner, under_systemd, wipe_directory

HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                     r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
UNIT = "appliance.service"


@dataclass(frozen=True)
class BackupEntry:
    """A backup archive in the data directory."""

    path: Path
    size: int
    created: datetime.datetime


class ConsoleBackend:
    """The console's hands. `in_process`: this console runs inside the appliance (the `console` service)."""

    def __init__(self, config: Config, runner: SystemRunner | None = None, in_process: bool = False) -> None:
        self.config = config
        self.root = config.data_dir
        self.runner = runner or SystemRunner(config.get("console", "dry_run"))
        self.client = ControlClient(socket_path(self.root))
        self.in_process = in_process

    # --- who may use the console -----------------------------------------------------------------
    def check_password(self, password: str) -> auth.AuthResult:
        """Check the console password, counting failures."""
        sec = self.config.section("console")
        return auth.check_console_password(self.root, password, sec["max_failures"], sec["lockout_s"])

    # --- the running appliance ---------------------------------------------------------------------
    def status(self) -> dict[str, Any] | None:
        """Services, metrics and version from the running appliance; None when it is not running."""
        try:
            return self.client.request("status")
        except (ControlUnavailable, ControlError):
            return None

    def restart(self, name: str) -> str:
        """Restart one service; a sentence saying what happened."""
        try:
            self.client.request("restart", name=name)
        except ControlUnavailable as exc:
            return f"cannot restart {name}: {exc}"
        except ControlError as exc:
            return f"{name} was not restarted: {exc}"
        return f"{name} restarted"

    def logs(self, lines: int) -> list[str]:
        """The last log lines: from the running appliance, else journald, else a sentence why not."""
        try:
            return self.client.request("logs", lines=lines)["lines"]
        except (ControlUnavailable, ControlError):
            pass
        if under_systemd():
            result = self.runner.run(("journalctl", "-u", UNIT, "-n", str(lines), "--no-pager", "-q"))
            if result.ok:
                return result.lines
        return ["no logs: the appliance is not running and journald is not available"]

    def reset_admin_password(self) -> str:
        """A new one-time admin password (the running appliance sets it; else the database directly)."""
        try:
            return self.client.request("reset-admin-password")["password"]
        except ControlUnavailable:
            pass
        from appliance import accounts
        from appliance.db import Database
        db = Database(self.config.database_url)
        try:
            with db.peewee.connection_context():
                db.migrate()
                return accounts.reset_password(accounts.ADMIN_USERNAME)
        finally:
            db.close()

    def testable(self) -> dict[str, Any] | None:
        """What can be tested now (`items`: [service, item, label]; `unavailable`: [service, why]); None when
        the appliance is not running."""
        try:
            return self.client.request("testable")
        except (ControlUnavailable, ControlError):
            return None

    def diagnose(self, service: str, item: str | None = None) -> list[str]:
        """A service's self-test (all its accounts or modems, or one `item`), or a sentence why there is none."""
        try:
            return self.client.request("diagnose", service=service, item=item)["lines"]
        except ControlUnavailable:
            return [f"not available: the appliance is not running, so the {service} service cannot be tested"]
        except ControlError as exc:
            return [f"not available: {exc}"]

    # --- the host ---------------------------------------------------------------------------------
    def network_show(self) -> list[str]:
        """Addresses, routes, name servers."""
        return network.show_network(self.runner)

    def interfaces(self) -> list[str]:
        """Interface names."""
        return network.interface_names(self.runner)

    def apply_network(self, plan: network.NetworkPlan) -> list[str]:
        """Apply validated settings (dry run prints the commands)."""
        return network.apply_steps(network.plan_steps(plan), self.runner)

    def ping(self, host: str) -> list[str]:
        """Three pings to a host name or address."""
        host = host.strip()
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not HOST_RE.match(host):
                raise InputError(f"{host!r} is not a host name or an IP address") from None
        return self.runner.run(("ping", "-c", "3", "-W", "2", "--", host), timeout=15).lines

    def reboot(self) -> list[str]:
        """Reboot the host."""
        return self.runner.do(Step(("systemctl", "reboot"))).lines

    @property
    def hostname(self) -> str:
        """This host's name."""
        return socket.gethostname()

    # --- the data directory ---------------------------------------------------------------------------
    def backups(self) -> list[BackupEntry]:
        """Backup archives, newest first."""
        folder = self.root / "backups"
        found = []
        for path in folder.glob("backup-*.tar.gz") if folder.is_dir() else []:
            st = path.stat()
            found.append(BackupEntry(path, st.st_size, datetime.datetime.fromtimestamp(st.st_mtime)))
        return sorted(found, key=lambda b: b.created, reverse=True)

    def _stopped_or_why(self, action: str) -> str | None:
        if self.in_process:
            return (f"{action} needs the appliance stopped, and this console runs inside it. Use the console "
                    f"on the serial getty, or `systemctl stop appliance` then `appliance console`.")
        if self.client.available():
            return f"{action} needs the appliance stopped: run `systemctl stop appliance` first. Nothing changed."
        return None

    def restore(self, archive: Path) -> list[str]:
        """Restore a backup (appliance stopped)."""
        why = self._stopped_or_why("restore")
        if why:
            return [why]
        from appliance.backup import BackupError, restore_backup
        from appliance.datadir import DataDir
        try:
            restore_backup(archive, DataDir(self.root), self.config.database_url)
        except BackupError as exc:
            return [f"restore failed: {exc}"]
        return [f"restored {archive.name}; start the appliance: systemctl start appliance"]

    def factory_reset(self) -> list[str]:
        """Delete everything in the data directory (and a PostgreSQL schema) and run first boot again."""
        why = self._stopped_or_why("factory reset")
        if why:
            return [why]
        from appliance import firstboot
        url = self.config.database_url
        if not url.startswith("sqlite:///"):
            from appliance.db import Database
            db = Database(url)
            try:
                with db.peewee.connection_context():
                    db.peewee.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            finally:
                db.close()
        removed = wipe_directory(self.root)
        boot = firstboot.initialise(self.root)
        lines = [f"deleted {removed} entries in {self.root}; first boot done again",
                 f"TLS certificate SHA-256 fingerprint: {boot.fingerprint}"]
        if boot.admin_password:
            lines.append(f"admin password: {boot.admin_password}")
        if getattr(boot, "console_password", None):
            lines.append(f"console password: {boot.console_password}")
        lines.append("write these down now: they are shown only once")
        return lines
