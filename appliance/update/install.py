"""Installing a verified bundle beside the running version, with a backup and automatic rollback.

Layout under `update.root` (/opt/appliance on the image): `versions/<version>/` holds each installed
bundle and `current` is a symlink to one of them; `/opt/appliance/appliance` points into `current`.
Steps: verify + unpack into a staging directory (a refusal deletes it: nothing changed) → stop the
appliance → back up the data (the new version migrates the database when it starts) → move `current`
→ start it and wait for READY → on timeout: stop it, move `current` back, restore the backup, start
the old version again.
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from appliance.backup import make_backup, restore_backup
from appliance.config import Config
from appliance.datadir import DataDir
from appliance.update.bundle import Manifest, load_public_key, verify_and_extract
from appliance.update.errors import InstallFailed, UpdateError

log = logging.getLogger(__name__)
UNIT = "appliance.service"
KEY_NAME = "update_key.pub"
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Installed:
    """What an update did."""

    version: str
    previous: str
    backup: Path


def installed_version(root: Path) -> str:
    """The version `current` points at; in a checkout without versions, the code's own version."""
    link = root / "current"
    if link.is_symlink():
        return Path(os.readlink(link)).name
    from appliance.runtime import VERSION
    return VERSION


def public_key_path(config: Config) -> Path:
    """The configured key, else the one installed with the image, else the checkout's."""
    configured = config.get("update", "public_key")
    if configured:
        return Path(configured)
    candidates = [Path(config.get("update", "root")) / KEY_NAME,
                  Path(getattr(sys, "_MEIPASS", "/nonexistent")) / KEY_NAME,
                  Path(__file__).resolve().parents[2] / "image_build" / KEY_NAME]
    return next((p for p in candidates if p.exists()), candidates[-1])


def check_bundle(bundle: Path, config: Config) -> Manifest:
    """Verify signature, version and every file without unpacking; raises BundleRejected."""
    key = load_public_key(public_key_path(config))
    return verify_and_extract(bundle, key, installed_version(Path(config.get("update", "root"))), None)


class Manager(Protocol):
    """How the appliance process is stopped and started around an update."""

    def stop(self) -> None:
        """Stop the running appliance."""

    def start(self, timeout_s: float) -> bool:
        """Start whatever `current` points at; True once it is READY within the timeout."""

    def start_previous(self) -> None:
        """Start the rolled-back version again."""


class SystemdManager:
    """The image: systemctl (Type=notify, so `start` returns when READY=1 arrives, or fails)."""

    def stop(self) -> None:
        subprocess.run(["systemctl", "stop", UNIT], check=False, timeout=120)

    def start(self, timeout_s: float) -> bool:
        try:
            proc = subprocess.run(["systemctl", "start", UNIT], timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return False
        return proc.returncode == 0

    def start_previous(self) -> None:
        subprocess.run(["systemctl", "start", UNIT], check=False, timeout=300)


class TrialManager:
    """No service manager (development, tests): prove the new version reaches READY by starting it once.

    The appliance must already be stopped; the trial run is stopped again afterwards.
    """

    def __init__(self, root: Path, data: DataDir) -> None:
        self.root = root
        self.data = data

    def stop(self) -> None:
        from appliance.console.control import ControlClient, socket_path
        if ControlClient(socket_path(self.data.root), timeout=5).available():
            raise UpdateError("the appliance is running: stop it first (no service manager to do it here)")

    def start(self, timeout_s: float) -> bool:
        log_path = self.data.root / "updates" / "trial.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        sock_path = self.data.root / "updates" / f"notify-{os.getpid()}.sock"
        sock_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(sock_path))
        try:
            with open(log_path, "ab") as out:
                proc = subprocess.Popen([str(self.root / "current" / "appliance"), "run"], stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env={**os.environ, "NOTIFY_SOCKET": str(sock_path)})
            ready = _wait_ready(listener, proc, timeout_s)
            _terminate(proc)
            return ready
        finally:
            listener.close()
            sock_path.unlink(missing_ok=True)

    def start_previous(self) -> None:
        """Nothing was running before the trial, so nothing is started again."""


def _wait_ready(listener: socket.socket, proc: subprocess.Popen, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        listener.settimeout(min(0.5, max(0.01, deadline - time.monotonic())))
        try:
            message = listener.recv(65536).decode(errors="replace")
        except socket.timeout:
            continue
        if "READY=1" in message.split("\n"):
            return True
    return False


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pick_manager(config: Config, data: DataDir) -> Manager:
    """systemd when configured, or (auto) when the appliance unit is active; else a trial start."""
    choice = config.get("update", "manager")
    if choice == "auto":
        active = shutil.which("systemctl") and subprocess.run(
            ["systemctl", "is-active", "--quiet", UNIT], check=False).returncode == 0
        choice = "systemd" if active else "trial"
    return SystemdManager() if choice == "systemd" else TrialManager(Path(config.get("update", "root")), data)


def _point_current(root: Path, target: str | None) -> None:
    link = root / "current"
    if target is None:
        link.unlink(missing_ok=True)
        return
    tmp = root / ".current.new"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)  # rename(2) over the old link: `current` is never missing


def install_update(bundle: Path, config: Config, manager: Manager | None = None) -> Installed:
    """Verify, install beside, back up, switch, wait for READY, or roll back (raises InstallFailed)."""
    root = Path(config.get("update", "root"))
    data = DataDir(config.data_dir)
    previous = installed_version(root)
    key = load_public_key(public_key_path(config))
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    staging = versions / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        manifest = verify_and_extract(bundle, key, previous, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    manager = manager or pick_manager(config, data)
    try:
        manager.stop()
    except UpdateError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    target = versions / manifest.version
    shutil.rmtree(target, ignore_errors=True)  # a leftover of an earlier failed attempt
    staging.rename(target)
    backup = make_backup(data, config.database_url)
    old_link = os.readlink(root / "current") if (root / "current").is_symlink() else None
    _point_current(root, f"versions/{manifest.version}")
    timeout = config.get("update", "ready_timeout_s")
    log.info("update: starting %s (was %s), backup %s", manifest.version, previous, backup)
    if manager.start(timeout):
        return Installed(manifest.version, previous, backup)
    manager.stop()  # whatever is left of the failed start
    _point_current(root, old_link)
    restore_backup(backup, data, config.database_url)
    shutil.rmtree(target, ignore_errors=True)
    manager.start_previous()
    raise InstallFailed(f"version {manifest.version} did not reach READY within {timeout} s: rolled back to "
                        f"{previous} and restored the data from {backup.name}")
