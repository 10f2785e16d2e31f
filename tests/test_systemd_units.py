"""The unit files pass systemd-analyze verify."""
from __future__ import annotations

import subprocess
from pathlib import Path

from tests.tools import require_tool

UNITS = Path(__file__).resolve().parents[1] / "systemd"


def test_units_verify(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "systemd")
    # ExecStart must exist for verify: point the unit at a stand-in binary in a temp copy.
    fake = tmp_path / "appliance"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    for unit in UNITS.glob("*.service"):
        text = unit.read_text().replace("/opt/appliance/appliance", str(fake))
        copy = tmp_path / unit.name
        copy.write_text(text)
        proc = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
        problems = [line for line in proc.stderr.splitlines()
                    if str(copy) in line or unit.name in line]
        assert proc.returncode == 0 and not problems, proc.stderr


def test_unit_is_notify_with_watchdog() -> None:
    text = (UNITS / "appliance.service").read_text()
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=", "Restart=on-failure", "NoNewPrivileges=yes"):
        assert line in text


def test_console_unit_instance_verifies_and_owns_the_tty(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "systemd")
    fake = tmp_path / "appliance"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    text = (UNITS / "appliance-console@.service").read_text()
    instance = tmp_path / "appliance-console@ttyS0.service"  # what `systemctl enable` instantiates
    instance.write_text(text.replace("/opt/appliance/appliance", str(fake)))
    proc = subprocess.run([analyze, "verify", str(instance)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and str(instance) not in proc.stderr, proc.stderr
    for line in ("ExecStart=-/opt/appliance/appliance console --baud 9600", "TTYPath=/dev/%I",
                 "StandardInput=tty", "Restart=always", "Conflicts=serial-getty@%i.service",
                 "DefaultInstance=ttyS0", "Environment=APPLIANCE_DATA_DIR=/var/lib/appliance"):
        assert line in text, line


def test_update_path_unit_verifies_and_points_at_the_staged_file(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "systemd")
    fake = tmp_path / "appliance"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    for name in ("appliance-update.path", "appliance-update.service"):
        (tmp_path / name).write_text((UNITS / name).read_text().replace("/opt/appliance/appliance", str(fake)))
    proc = subprocess.run([analyze, "verify", str(tmp_path / "appliance-update.path")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and str(tmp_path) not in proc.stderr, proc.stderr
    text = (UNITS / "appliance-update.path").read_text()
    assert "PathExists=/var/lib/appliance/updates/staged.update" in text  # appliance.update.staging.STAGED
    assert "update --staged" in (UNITS / "appliance-update.service").read_text()
