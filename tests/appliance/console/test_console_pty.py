"""The console through a real pty, as a technician would use it, against the running appliance."""
from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from appliance.console.auth import hash_path
from tests.appliance.console.pty_user import MENU, attach, log_in, spawn_console, type_line
from tests.appliance.webui.helpers import login, login_admin


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only here: the console's database work is the password reset, tested on both elsewhere."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
def console_env(app_env: dict[str, str]) -> dict[str, str]:
    return {**app_env, "APPLIANCE_CONSOLE_DRY_RUN": "true", "APPLIANCE_CONSOLE_MAX_FAILURES": "3"}


async def test_status_restart_logs_and_bad_input(appliance, first_boot, console_env, caplog) -> None:
    caplog.set_level(logging.INFO)  # as `appliance run` does: info lines reach the console's log ring
    def technician() -> tuple[str, str]:
        term = spawn_console(console_env)
        log_in(term, first_boot.console_password)
        status_line = term.before
        type_line(term, "42")
        term.expect("'42' is not a choice here: type a number from 0 to 9.")
        type_line(term, "x; reboot")
        term.expect("is not a choice here")
        type_line(term, "1")
        term.expect("-- page 1/")
        screen = term.before
        type_line(term, "q")
        term.expect(MENU)
        type_line(term, "3")
        term.expect(r"(\d+)\) scheduler \(running\)")
        type_line(term, term.match.group(1))
        term.expect(r"Restart scheduler\? \[y/n\]: ")
        type_line(term, "y")
        term.expect("scheduler restarted")
        type_line(term, "")
        term.expect(MENU)
        type_line(term, "4")
        term.expect(r"How many lines \[50\]: ")
        type_line(term, "0")
        term.expect("Not accepted: type a number of lines from 1 to 500")
        type_line(term, "200")
        term.expect("Last 200 log lines")
        term.expect("-- (Enter: back|page)")
        logs = term.before
        type_line(term, "q")
        term.expect(MENU)
        type_line(term, "0")
        term.expect("Logged out.")
        term.expect(pexpect_eof())
        return status_line + screen, logs

    screen, logs = await asyncio.to_thread(technician)
    assert "Appliance 0.1.0: running" in screen or "Appliance 0.1.0: DEGRADED" in screen
    for name in ("scheduler", "webui", "console"):
        assert re.search(rf"{name}\s+running", screen), screen
    assert "not built yet" in screen
    assert "logger=" in logs
    assert appliance.supervisor.records["scheduler"].restarts == 1
    assert appliance.supervisor.records["scheduler"].state.value == "running"


def pexpect_eof():
    import pexpect
    return pexpect.EOF


async def test_lockout_after_wrong_passwords(appliance, first_boot, console_env) -> None:
    def technician() -> None:
        term = spawn_console(console_env)
        for _ in range(2):
            term.expect("Console password: ")
            type_line(term, "guess")
            term.expect("Wrong password.")
        term.expect("Console password: ")
        type_line(term, "guess")
        term.expect(r"locked for (\d+) s")
        # The right password is refused too while locked, and a new console does not reset it.
        term.expect("Console password: ")
        type_line(term, first_boot.console_password)
        term.expect("locked for")
        term.close(force=True)
        again = spawn_console(console_env)
        again.expect("Console password: ")
        type_line(again, first_boot.console_password)
        again.expect("locked for")
        again.close(force=True)

    await asyncio.to_thread(technician)


async def test_console_service_serves_its_pty(appliance, first_boot) -> None:
    service = appliance.supervisor.service("console")
    assert service.tty_path.startswith("/dev/")

    def technician() -> str:
        term = attach(service.tty_path)
        type_line(term, "")  # whatever was shown before we connected: ask for a fresh prompt
        log_in(term, first_boot.console_password)
        type_line(term, "2")
        term.expect(r"Choice \[0-2\]: ")
        type_line(term, "1")
        term.expect("-- Enter: back --")
        shown = term.before
        type_line(term, "")
        term.expect(r"Choice \[0-2\]: ")
        type_line(term, "0")
        term.expect(MENU)
        type_line(term, "0")
        term.expect("Logged out.")
        term.expect("Console password: ")  # the service offers the next session at once
        term.close()
        return shown

    shown = await asyncio.to_thread(technician)
    assert "Addresses (ip -brief address):" in shown and "lo" in shown
    assert service.sessions == 1


async def test_set_network_in_dry_run_prints_the_commands(appliance, first_boot, console_env) -> None:
    def technician() -> str:
        term = spawn_console(console_env)
        log_in(term, first_boot.console_password)
        type_line(term, "2")
        term.expect(r"Choice \[0-2\]: ")
        type_line(term, "2")
        term.expect(r"Interface.*: ")
        type_line(term, "nosuch0")
        term.expect("no interface 'nosuch0'")
        type_line(term, "lo")
        term.expect("loopback")
        iface = re.search(r"\[(\w+)\]|\((\w+)", term.before)
        type_line(term, "eth0" if "eth0" in term.before else (iface.group(1) or iface.group(2)))
        term.expect("Address with prefix")
        type_line(term, "192.0.2.300/24")
        term.expect("is not an address/prefix")
        type_line(term, "192.0.2.10/24")
        term.expect(r"Default gateway")
        type_line(term, "198.51.100.1")
        term.expect("not on the subnet 192.0.2.0/24")
        type_line(term, "192.0.2.1")
        term.expect("Name servers")
        type_line(term, "192.0.2.53")
        term.expect(r"Apply these settings now\? The connection may drop\. \[y/n\]: ")
        type_line(term, "y")
        term.expect("-- Enter: back --")
        out = term.before
        term.close(force=True)
        return out

    out = await asyncio.to_thread(technician)
    assert "dry run: would run: ip address add 192.0.2.10/24 dev" in out
    assert "dry run: would run: ip route replace default via 192.0.2.1 dev" in out
    assert "nameserver 192.0.2.53" in out


def test_factory_reset_keeps_nothing(first_boot, console_env) -> None:
    root = first_boot.root
    (root / "store" / "marker.txt").write_text("customer data")
    old_hash = hash_path(root).read_text()
    term = spawn_console(console_env)
    log_in(term, first_boot.console_password)
    type_line(term, "8")
    term.expect(r"Really delete everything\? \[y/n\]: ")
    type_line(term, "y")
    term.expect("Type ERASE in capitals")
    type_line(term, "erase")
    term.expect("Cancelled: nothing was deleted.")
    assert (root / "store" / "marker.txt").exists()
    type_line(term, "")
    term.expect(MENU)
    type_line(term, "8")
    term.expect(r"\[y/n\]: ")
    type_line(term, "y")
    term.expect("Type ERASE in capitals")
    type_line(term, "ERASE")
    term.expect(r"console password: (\S+)")
    new_console = term.match.group(1)
    term.close(force=True)
    assert not (root / "store" / "marker.txt").exists()
    assert (root / ".initialised").exists() and hash_path(root).read_text() != old_hash
    assert new_console != first_boot.console_password
    again = spawn_console(console_env)
    log_in(again, new_console)
    again.close(force=True)


async def test_reboot_is_confirmed_and_dry_run_prints(appliance, first_boot, console_env) -> None:
    def technician() -> str:
        term = spawn_console(console_env)
        log_in(term, first_boot.console_password)
        type_line(term, "9")
        term.expect(r"Reboot the appliance now\? \[y/n\]: ")
        type_line(term, "y")
        term.expect("-- Enter: back --")
        out = term.before
        term.close(force=True)
        return out

    assert "dry run: would run: systemctl reboot" in await asyncio.to_thread(technician)
