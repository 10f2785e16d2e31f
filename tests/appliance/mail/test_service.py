"""The mail service inside the running appliance: SMTP in, IMAP and POP3 accounts, the outbox out."""
from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import time
from email import message_from_bytes, policy
from typing import AsyncIterator

import pytest

from appliance.mail.models import MailAccount, MailOutbox
from appliance.models import Mailbox, Message, ServiceAddress, Tenant, Ticket
from tests.appliance.mail.corpus import mail
from tests.appliance.mail.servers import PASSWORD, Dovecot, SmtpSink

AUTO = {"auto_reply": {"enabled": True, "text": "Received, ticket {ticket}."}, "signature": "Acme Support"}


async def org(app, address: str, settings: dict | None = None) -> tuple[int, int]:
    def make() -> tuple[int, int]:
        tenant = Tenant.create(name=f"T-{address}")
        box = Mailbox.create(tenant=tenant, name="Support", settings=json.dumps(settings or {}))
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value=address)
        return tenant.id, box.id
    return await app.db.call(make)


async def until(app, fn, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await app.db.call(fn)
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


def smtp_session(app) -> smtplib.SMTP:
    svc = app.supervisor.service("mail")
    client = smtplib.SMTP("127.0.0.1", svc.smtp_port, timeout=10)
    client.starttls(context=ssl.create_default_context(cafile=str(app.data.cert)))
    return client


async def test_smtp_accepts_service_addresses_only_and_answers_with_codes(app) -> None:
    await org(app, "support@acme.example")
    raw = mail(message_id="<smtp1@customer.example>")

    def talk() -> tuple:
        with smtp_session(app) as c:
            c.ehlo("client.example")
            assert c.has_extn("size")
            code_unknown = c.mail("alice@customer.example") and c.rcpt("nobody@acme.example")
            c.rset()
            c.mail("alice@customer.example")
            assert c.rcpt("Support@Acme.example")[0] == 250
            code_data = c.data(raw)
            c.mail("alice@customer.example", ["SIZE=5000000"])
            too_big = c.rcpt("support@acme.example")
            return code_unknown, code_data, too_big
    unknown, data, too_big = await asyncio.get_running_loop().run_in_executor(None, talk)
    assert unknown[0] == 550 and b"no such service address" in unknown[1]
    assert data[0] == 250 and b"queued as" in data[1]
    assert too_big[0] in (503, 552)  # MAIL with SIZE over the limit is refused before RCPT (RFC 1870)
    msg = await until(app, lambda: Message.get_or_none(Message.source_ref == "smtp1@customer.example"))
    assert msg is not None and msg.sender == "alice@customer.example"


async def test_auto_reply_goes_out_through_the_relay_with_starttls_and_auth(app, smtp_sink: SmtpSink) -> None:
    await org(app, "hello@acme.example", AUTO)

    def send() -> None:
        with smtp_session(app) as c:
            c.sendmail("bob@customer.example", ["hello@acme.example"],
                       mail(sender="bob@customer.example", to="hello@acme.example", subject="Order 42",
                            message_id="<order42@customer.example>"))
    await asyncio.get_running_loop().run_in_executor(None, send)
    row = await until(app, lambda: MailOutbox.get_or_none(MailOutbox.state == "sent"))
    assert row is not None, "the auto-reply was not sent"
    received = [r for r in smtp_sink.received() if b"order42@customer.example" in r]
    assert received
    out = message_from_bytes(received[-1], policy=policy.default)
    assert out["X-Envelope-To"] == "bob@customer.example" and out["In-Reply-To"] == "<order42@customer.example>"
    assert out["Auto-Submitted"] == "auto-replied" and "[Ticket#" in out["Subject"]
    assert out.get_body(("plain",)).get_content().startswith("Received, ticket ")
    assert out.get_body(("html",)) is not None


@pytest.mark.parametrize("protocol,port,security", [("imap", "imaps", "tls"), ("pop3", "pop3", "starttls")])
async def test_account_is_fetched_into_tickets_and_emptied(app, dovecot: Dovecot, protocol, port, security) -> None:
    address = f"{protocol}-box@acme.example"
    tenant_id, box_id = await org(app, address)
    dovecot.add_user(address)
    for i in range(7):
        dovecot.deliver(address, mail(to=address, subject=f"fetched {i}", message_id=f"<{protocol}{i}@x>"))
    await app.db.call(MailAccount.create, tenant=tenant_id, mailbox=box_id, name=f"{protocol} box", protocol=protocol,
                      host="localhost", port=dovecot.ports[port], security=security, ca_file=str(dovecot.cert),
                      username=address, password=PASSWORD, poll_s=1)
    count = await until(app, lambda: Ticket.select().where(Ticket.tenant == tenant_id).count() >= 7)
    assert count
    assert await app.db.call(lambda: Message.select().where(Message.tenant == tenant_id).count()) == 7
    await until(app, lambda: dovecot.count(address) == 0, 10)
    assert dovecot.count(address) == 0
    health = app.supervisor.service("mail").health()
    [status] = [a for a in health["accounts"] if a["name"] == f"{protocol} box"]
    assert status["fetched"] == 7 and status["last_error"] == ""
    saved = await until(app, lambda: MailAccount.get(MailAccount.tenant == tenant_id).last_ok_at, 10)
    assert saved is not None
