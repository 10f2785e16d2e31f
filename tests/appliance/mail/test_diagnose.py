"""The mail service's self-test against real servers: dovecot (IMAPS, POP3 with STLS) and the aiosmtpd relay
(STARTTLS + AUTH): a line per step, the failing step named, nothing fetched or sent."""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from appliance.mail.models import MailAccount
from tests.appliance.mail.servers import PASSWORD, Dovecot, SmtpSink
from tests.appliance.mail.test_service import org
from tests.pg import free_port


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite: the self-test reads no table of its own."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


async def accounts_running(app, count: int) -> None:
    """Until the mail service has loaded `count` accounts (it reloads them every few seconds)."""
    svc = app.supervisor.service("mail")
    deadline = time.monotonic() + 20
    while len(svc.fetchers) < count:
        assert time.monotonic() < deadline, "the mail service did not load the accounts"
        await asyncio.sleep(0.1)


def block(lines: list[str], heading: str) -> str:
    """The lines of one server's test, from its heading to the next heading."""
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return "\n".join(lines[start:end])


async def test_each_account_and_the_relay_step_by_step(app, dovecot: Dovecot, smtp_sink: SmtpSink) -> None:
    address = "diag@acme.example"
    tenant_id, box_id = await org(app, address)
    dovecot.add_user(address)
    common = {"tenant": tenant_id, "mailbox": box_id, "host": "localhost", "username": address, "poll_s": 3600}
    good = await app.db.call(MailAccount.create, name="imaps good", protocol="imap", port=dovecot.ports["imaps"],
                             security="tls", ca_file=str(dovecot.cert), password=PASSWORD, **common)
    await app.db.call(MailAccount.create, name="pop3 wrong password", protocol="pop3", port=dovecot.ports["pop3"],
                      security="starttls", pin_sha256=dovecot.fingerprint, password="not-the-password", **common)
    await app.db.call(MailAccount.create, name="closed port", protocol="imap", port=free_port(), security="tls",
                      password=PASSWORD, **common)
    await accounts_running(app, 3)
    svc = app.supervisor.service("mail")

    lines = await svc.diagnose()
    imaps = block(lines, "account imaps good")
    for step in ("resolve", "connect", "TLS", "login", "select"):
        assert re.search(rf"^  {step}\s+ok\s", imaps, re.M), imaps
    assert "certificate verified" in imaps and re.search(r"INBOX: \d+ messages?", imaps)
    pop3 = block(lines, "account pop3 wrong password")
    assert re.search(r"^  TLS\s+ok\s+TLSv1\.[23], certificate matches the pin", pop3, re.M), pop3
    assert re.search(r"^  login\s+FAILED\s+error_proto: .*", pop3, re.M), pop3
    assert "STAT" not in pop3  # the first failure ends that account's test
    closed = block(lines, "account closed port")
    assert re.search(r"^  connect\s+FAILED\s+ConnectionRefusedError", closed, re.M), closed
    relay = block(lines, "relay starttls://localhost:")
    for step in ("EHLO", "STARTTLS", "AUTH"):
        assert re.search(rf"^  {step}\s+ok\s", relay, re.M), relay
    assert smtp_sink.received() == []  # nothing was sent

    one = await svc.diagnose(str(good.id))
    assert one[0].startswith("account imaps good") and not any("relay" in line for line in one)
    assert "not tested" in (await svc.diagnose("999999"))[0]


async def test_the_test_button_on_the_mail_page(app, admin_http, dovecot: Dovecot) -> None:
    address = "diag-web@acme.example"
    tenant_id, box_id = await org(app, address)
    dovecot.add_user(address)
    account = await app.db.call(MailAccount.create, tenant=tenant_id, mailbox=box_id, name="web box", protocol="imap",
                                host="localhost", port=dovecot.ports["imaps"], security="tls",
                                ca_file=str(dovecot.cert), username=address, password=PASSWORD, poll_s=3600)
    await accounts_running(app, 1)
    async with admin_http.get("/admin/mail") as resp:
        page = await resp.text()
    form = re.search(r'action="/admin/diagnostics/mail".*?name="item" value="(\d+)"', page, re.S)
    assert form and form.group(1) == str(account.id)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    async with admin_http.post("/admin/diagnostics/mail", data={"csrf_token": token, "item": str(account.id)}) as resp:
        result = await resp.text()
    assert resp.status == 200 and "Every step passed." in result and "account web box" in result
