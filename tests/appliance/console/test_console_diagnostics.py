"""Console diagnostics through a real pty, as a technician would use them: the menu lists what the running
appliance can test (a mail account on a real dovecot, the real relay, the fax line, the GSM modem) and each
test prints a line per step."""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Iterator

import pytest

from appliance.mail.models import MailAccount
from tests.appliance.console.pty_user import MENU, log_in, spawn_console, type_line
from tests.appliance.mail.servers import (PASSWORD, Dovecot, SmtpSink, cleanup, private_dir, start_dovecot,
                                          start_smtp_sink)
from tests.appliance.mail.test_service import org

DIAG_MENU = r"Choice \[0-\d+\]: "


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the diagnostics read no table of their own."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    root = private_dir("dovecot-console-")
    server = start_dovecot(root)
    yield server
    server.stop()
    cleanup(root)


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    server = start_smtp_sink(tmp_path / "smtp")
    yield server
    server.stop()


@pytest.fixture
def app_env(app_env: dict[str, str], smtp_sink: SmtpSink) -> dict[str, str]:
    """The default emulated fax line and GSM modem, and the test relay (STARTTLS + AUTH)."""
    return {**app_env, "APPLIANCE_MAIL_SMTP_ENABLED": "false",
            "APPLIANCE_MAIL_RELAY_URL": f"starttls://relay:relay-pw@localhost:{smtp_sink.port}",
            "APPLIANCE_MAIL_RELAY_CA_FILE": str(smtp_sink.cert), "APPLIANCE_CONSOLE_DRY_RUN": "true"}


def run_test(term, entry: str) -> str:
    """Pick the diagnostics entry whose label contains `entry`; returns the test's screen."""
    term.expect(DIAG_MENU)
    menu = term.before
    found = re.search(rf"(\d+)\) Test [^\n]*{re.escape(entry)}", menu)
    assert found, menu
    type_line(term, found.group(1))
    term.expect(r"-- Enter: back --")
    screen = term.before
    type_line(term, "")
    return screen


async def test_menu_lists_and_runs_each_test(appliance, first_boot, app_env, dovecot: Dovecot) -> None:
    address = "console-diag@acme.example"
    tenant_id, box_id = await org(appliance, address)
    dovecot.add_user(address)
    await appliance.db.call(MailAccount.create, tenant=tenant_id, mailbox=box_id, name="support inbox",
                            protocol="imap", host="localhost", port=dovecot.ports["imaps"], security="tls",
                            ca_file=str(dovecot.cert), username=address, password=PASSWORD, poll_s=3600)
    mail = appliance.supervisor.service("mail")
    deadline = time.monotonic() + 20
    while not mail.fetchers or appliance.supervisor.service("sms").runners["gsm-a"].state != "up":
        assert time.monotonic() < deadline, "account or modem not up"
        await asyncio.sleep(0.1)

    def technician() -> dict[str, str]:
        term = spawn_console(app_env)
        log_in(term, first_boot.console_password)
        type_line(term, "6")
        term.expect("Diagnostics")
        screens = {"account": run_test(term, "mail account support inbox (imap localhost)"),
                   "relay": run_test(term, "mail relay starttls://localhost:"),
                   "fax": run_test(term, "fax line fax-a (emu://fax-a)"),
                   "gsm": run_test(term, "GSM modem gsm-a (emu://gsm-a)")}
        term.expect(DIAG_MENU)
        type_line(term, "99")
        term.expect("'99' is not a choice here")
        type_line(term, "0")
        term.expect(MENU)
        type_line(term, "0")
        term.expect("Logged out.")
        return screens

    screens = await asyncio.to_thread(technician)
    account = screens["account"]
    for step in ("resolve", "connect", "TLS", "login", "select"):
        assert re.search(rf"^\s+{step}\s+ok\s", account, re.M), account
    for step in ("EHLO", "STARTTLS", "AUTH"):
        assert re.search(rf"^\s+{step}\s+ok\s", screens["relay"], re.M), screens["relay"]
    for step in ("open", "AT", "ATI", r"AT\+FCLASS=\?", r"AT\+FCLASS\?"):
        assert re.search(rf"^\s+{step}\s+ok\s", screens["fax"], re.M), screens["fax"]
    assert re.search(r"AT\+FCLASS=\?\s+ok\s+[^\n]*\b1\b", screens["fax"])
    for step in ("open", "AT", r"AT\+CGMI/CGMM", r"AT\+CSQ", r"AT\+CREG\?", r"AT\+COPS\?"):
        assert re.search(rf"^\s+{step}\s+ok\s", screens["gsm"], re.M), screens["gsm"]
    assert re.search(r"AT\+CSQ\s+ok\s+-\d+ dBm", screens["gsm"])


async def test_an_unplugged_modem_is_said_plainly(appliance, first_boot, app_env) -> None:
    sms = appliance.supervisor.service("sms")
    deadline = time.monotonic() + 20
    while sms.runners["gsm-a"].state != "up":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    await sms.emulators()["gsm-a"].unplug()
    while sms.runners["gsm-a"].state != "down":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)

    def technician() -> str:
        term = spawn_console(app_env)
        log_in(term, first_boot.console_password)
        type_line(term, "6")
        gsm = run_test(term, "GSM modem gsm-a")
        term.expect(DIAG_MENU)
        type_line(term, "0")
        term.expect(MENU)
        return gsm

    gsm = await asyncio.to_thread(technician)
    assert re.search(r"open\s+FAILED\s+down, the service retries in \d+ s: gsm-a: \S+", gsm), gsm
    assert "AT+CSQ" not in gsm  # nothing more is tried on a modem that is not there
