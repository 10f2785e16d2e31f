"""The menu engine driven line by line with a fake backend: what a technician sees for what they type."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from appliance.console.auth import AuthResult
from appliance.console.backend import BackupEntry
from appliance.console.menu import console_session
from appliance.console.screen import HEIGHT, WIDTH

STATUS = {"version": "9.9.9", "web_port": 8443, "degraded": True, "metrics": {"appliance.uptime_s": 75,
          "appliance.load1": 0.5, "queue.sales.waiting": 3},
          "services": [{"name": "webui", "state": "running", "restarts": 0, "uptime_s": 75, "last_error": "",
                        "health": {"port": 8443}},
                       {"name": "fax", "state": "disabled", "restarts": 0, "uptime_s": 0,
                        "last_error": "not built yet: serial fax modems", "health": {}},
                       {"name": "mail", "state": "failed", "restarts": 6, "uptime_s": 0,
                        "last_error": "boom", "health": {}}]}


class FakeBackend:
    hostname = "box"

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.password = "secret-1"

    def check_password(self, pw: str) -> AuthResult:
        return AuthResult(pw == self.password)

    def status(self):
        return STATUS

    def restart(self, name: str) -> str:
        self.calls.append(("restart", name))
        return f"{name} restarted"

    def logs(self, n: int) -> list[str]:
        self.calls.append(("logs", n))
        return [f"log {i}" for i in range(n)]

    def reset_admin_password(self) -> str:
        self.calls.append(("reset",))
        return "NewOneTime23"

    def testable(self):
        return {"items": [["mail", "3", "mail account box (imap mail.example)"],
                          ["fax", "fax-a", "fax line fax-a (emu://fax-a)"]],
                "unavailable": [["sms", "the sms service is failed"]]}

    def diagnose(self, service: str, item: str | None = None) -> list[str]:
        self.calls.append(("diagnose", service, item))
        return [f"tested {service} {item}"]

    def ping(self, host: str) -> list[str]:
        self.calls.append(("ping", host))
        return ["3 packets transmitted"]

    def interfaces(self) -> list[str]:
        return ["lo", "eth0"]

    def network_show(self) -> list[str]:
        return ["eth0 UP 192.0.2.2/24"]

    def apply_network(self, plan) -> list[str]:
        self.calls.append(("network", plan))
        return ["applied"]

    def backups(self):
        return [BackupEntry(Path("/x/backup-20260101-020000.tar.gz"), 12345, datetime.datetime(2026, 1, 1, 2))]

    def restore(self, path):
        self.calls.append(("restore", path.name))
        return ["restored"]

    def factory_reset(self) -> list[str]:
        self.calls.append(("factory",))
        return ["wiped"]

    def reboot(self) -> list[str]:
        self.calls.append(("reboot",))
        return ["dry run: would run: systemctl reboot"]


class Session:
    """Types lines into a dialogue and keeps every screen it showed."""

    def __init__(self, backend: FakeBackend) -> None:
        self.dialogue = console_session(backend)
        self.screens = [next(self.dialogue).text]
        self.done = False

    def type(self, *lines: str) -> str:
        for line in lines:
            try:
                self.screens.append(self.dialogue.send(line).text)
            except StopIteration:
                self.done = True
        return self.screens[-1]


@pytest.fixture
def logged_in() -> tuple[Session, FakeBackend]:
    backend = FakeBackend()
    s = Session(backend)
    s.type("secret-1")
    return s, backend


def test_wrong_password_reprompts_and_right_one_opens_the_menu() -> None:
    backend = FakeBackend()
    s = Session(backend)
    assert "Console password:" in s.screens[0]
    assert "Wrong password." in s.type("nope")
    menu = s.type("secret-1")
    assert "1) Status" in menu and "0) Log out" in menu and "DEGRADED (mail)" in menu


def test_every_screen_fits_a_vt100(logged_in) -> None:
    s, _ = logged_in
    s.type("1", "", "3", "0", "6", "0", "7", "0")
    for screen in s.screens:
        body = screen.replace("\x1b[H\x1b[2J", "")
        assert len(body.splitlines()) <= HEIGHT
        assert all(len(line) < WIDTH for line in body.splitlines()), body


def test_out_of_range_and_malformed_choices_reprompt(logged_in) -> None:
    s, backend = logged_in
    assert "'42' is not a choice here: type a number from 0 to 9." in s.type("42")
    assert "'drop table' is not a choice" in s.type("drop table")
    assert "1) Status" in s.type("")
    assert backend.calls == []


def test_status_shows_services_hardware_and_queues(logged_in) -> None:
    s, _ = logged_in
    screen = s.type("1")
    assert "mail" in screen and "failed" in screen and "boom" in screen
    assert "fax: not built yet: serial fax modems" in screen
    assert "sales: waiting 3" in screen


def test_restart_asks_then_restarts(logged_in) -> None:
    s, backend = logged_in
    listing = s.type("3")
    assert "1) webui (running)" in listing and "fax" not in listing  # disabled ones are not offered
    assert "Please answer y or n." in s.type("2", "maybe")
    assert "mail restarted" in s.type("y")
    assert backend.calls == [("restart", "mail")]


def test_logs_count_is_validated(logged_in) -> None:
    s, backend = logged_in
    s.type("4")
    assert "Not accepted: type a number of lines from 1 to 500" in s.type("9999")
    assert "log 4" in s.type("5")
    assert backend.calls == [("logs", 5)]


def test_reset_admin_password_prints_the_new_one(logged_in) -> None:
    s, backend = logged_in
    assert "admin password: NewOneTime23" in s.type("5", "y")
    s.type("")
    s.type("5", "n")
    assert backend.calls == [("reset",)]


def test_set_network_validates_confirms_and_applies(logged_in) -> None:
    s, backend = logged_in
    assert "Interface [eth0]:" in s.type("2", "2")  # lo is never offered, so eth0 is the default
    assert "no interface 'eth7'" in s.type("eth7")
    s.type("")
    screen = s.type("10.0.0.5")
    assert "prefix length" in screen
    s.type("10.0.0.5/24")
    assert "not on the subnet" in s.type("192.0.2.1")
    s.type("10.0.0.1")
    confirm = s.type("10.0.0.53")
    assert "address     10.0.0.5/24" in confirm and "Apply these settings now?" in confirm
    assert "applied" in s.type("y")
    assert backend.calls[0][0] == "network" and str(backend.calls[0][1].gateway) == "10.0.0.1"


def test_factory_reset_needs_two_confirmations(logged_in) -> None:
    s, backend = logged_in
    s.type("8", "y")
    assert "Cancelled: nothing was deleted." in s.type("erase")
    s.type("", "8", "n")
    assert backend.calls == []
    s.type("8", "y")
    assert "wiped" in s.type("ERASE")
    assert backend.calls == [("factory",)]


def test_reboot_and_diagnostics_and_logout(logged_in) -> None:
    s, backend = logged_in
    assert "would run: systemctl reboot" in s.type("9", "y")
    menu = s.type("", "6")
    assert " 2) Test mail account box (imap mail.example)" in menu and " 3) Test fax line fax-a" in menu
    assert "Not testable now: sms: the sms service is failed" in menu and "4)" not in menu
    assert "tested fax fax-a" in s.type("3")
    s.type("", "1")
    assert "3 packets transmitted" in s.type("192.0.2.1")
    s.type("", "0", "7", "1")
    assert "restored" in s.type("y")
    s.type("", "0")
    assert s.done
    assert ("diagnose", "fax", "fax-a") in backend.calls


def test_diagnostics_without_the_appliance_and_with_many_items() -> None:
    from appliance.console.menu import diagnostic_entries
    entries, header = diagnostic_entries(None)
    assert [(s, i) for s, i, _ in entries] == [("mail", None), ("fax", None), ("sms", None)]
    assert "does not answer" in header[0]
    many = {"items": [["sms", f"gsm-{n}", f"GSM modem gsm-{n}"] for n in range(20)] + [["fax", "a", "fax line a"]],
            "unavailable": []}
    entries, _ = diagnostic_entries(many)
    assert entries == [("sms", None, "Test all GSM modems"), ("fax", None, "Test all fax lines")]
    entries, header = diagnostic_entries({"items": [], "unavailable": [["mail", "the mail service is stopped"]]})
    assert entries == [] and header[-1].startswith("Nothing to test")
