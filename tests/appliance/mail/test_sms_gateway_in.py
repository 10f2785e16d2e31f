"""SMS in by POP3/IMAP (C10): an SMS gateway's mail, fetched from the real dovecot, becomes an SMS ticket."""
from __future__ import annotations

import json
from email.message import EmailMessage
from email import policy

import pytest

from appliance.intake.models import QuarantineEntry
from appliance.mail.models import MailAccount
from appliance.models import Mailbox, Message, ServiceAddress, Tenant, Ticket
from tests.appliance.mail.servers import PASSWORD, Dovecot
from tests.appliance.mail.test_service import until
from tests.appliance.webui.helpers import csrf_from

NUMBER = "+4930123456"


def gateway_mail(sender: str, text: str, message_id: str, subject: str = "SMS", charset: str = "utf-8") -> bytes:
    """A mail as an SMS gateway writes it: the sender in the address, the text as the plain body."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = "sms@acme.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(text, charset=charset, cte="quoted-printable")
    return msg.as_bytes()


async def sms_org(app, name: str, number: str = NUMBER) -> tuple[int, int]:
    def make() -> tuple[int, int]:
        tenant = Tenant.create(name=name)
        box = Mailbox.create(tenant=tenant, name="SMS", settings=json.dumps({}))
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="sms", value=number)
        return tenant.id, box.id
    return await app.db.call(make)


async def account(app, dovecot: Dovecot, tenant_id: int, box_id: int, user: str, protocol: str, port: str,
                  regex: str = "", number: str = NUMBER) -> None:
    await app.db.call(MailAccount.create, tenant=tenant_id, mailbox=box_id, name=f"gw {user}", protocol=protocol,
                      host="localhost", port=dovecot.ports[port], security="tls", ca_file=str(dovecot.cert),
                      username=user, password=PASSWORD, poll_s=1, kind="sms-gateway", sms_number=number,
                      sms_sender_regex=regex)


def sms_messages(tenant_id: int) -> list[Message]:
    return list(Message.select().where(Message.tenant == tenant_id).order_by(Message.id))


async def test_imap_gateway_mail_becomes_one_sms_each_and_bad_ones_go_to_quarantine(app, dovecot: Dovecot) -> None:
    user = "sms-imap@gw.example"
    tenant_id, box_id = await sms_org(app, "SMS by IMAP")
    dovecot.add_user(user)
    latin = gateway_mail("491701234567@sms.example.net", "Grüße aus Köln, bitte rückrufen", "<gw1@sms.example.net>",
                         charset="iso-8859-1")
    assert b"=FC" in latin  # really Latin-1 on the wire, not UTF-8
    dovecot.deliver(user, latin)
    dovecot.deliver(user, latin)  # the gateway sent it twice: one SMS
    dovecot.deliver(user, gateway_mail("00491709999999@sms.example.net", "second", "<gw2@sms.example.net>"))
    dovecot.deliver(user, gateway_mail("Gateway Notices <noreply@sms.example.net>", "balance low", "<gw3@x>"))
    await account(app, dovecot, tenant_id, box_id, user, "imap", "imaps")

    assert await until(app, lambda: len(sms_messages(tenant_id)) >= 2
                       and QuarantineEntry.select().where(QuarantineEntry.channel == "sms").count() >= 1)
    await until(app, lambda: dovecot.count(user) == 0, 10)
    assert dovecot.count(user) == 0  # acknowledged at the server only after the spool fsync
    messages = await app.db.call(sms_messages, tenant_id)
    assert [(m.channel, m.sender, m.recipient, m.body) for m in messages] == [
        ("sms", "+491701234567", NUMBER, "Grüße aus Köln, bitte rückrufen"),
        ("sms", "+491709999999", NUMBER, "second")]
    tickets = await app.db.call(lambda: list(Ticket.select().where(Ticket.tenant == tenant_id)))
    assert {t.channel for t in tickets} == {"sms"} and len(tickets) == 2  # never a mail ticket
    [held] = await app.db.call(lambda: list(QuarantineEntry.select().where(QuarantineEntry.channel == "sms")))
    assert "no sender number in the From local part" in held.reason and "noreply" in held.reason


async def test_pop3_gateway_with_a_sender_regex_over_the_subject(app, dovecot: Dovecot) -> None:
    user = "sms-pop@gw.example"
    tenant_id, box_id = await sms_org(app, "SMS by POP3", "+4930555000")
    dovecot.add_user(user)
    dovecot.deliver(user, gateway_mail("gateway@sms.example.net", "Termin passt.", "<p1@gw>",
                                       subject="SMS von 0170 7654321 an 030555000"))
    await account(app, dovecot, tenant_id, box_id, user, "pop3", "pop3s", regex=r"von (?P<number>[+\d ]+?) an",
                  number="+4930555000")
    assert await until(app, lambda: sms_messages(tenant_id))
    [msg] = await app.db.call(sms_messages, tenant_id)
    assert (msg.sender, msg.body) == ("+491707654321", "Termin passt.")  # national, read in the tenant's region
    await until(app, lambda: dovecot.count(user) == 0, 10)
    assert dovecot.count(user) == 0


async def test_a_quarantined_gateway_mail_is_delivered_when_reprocessed_after_the_regex_is_set(
        app, dovecot: Dovecot, admin_http) -> None:
    user = "sms-fix@gw.example"
    tenant_id, box_id = await sms_org(app, "SMS fixed later", "+4930444000")
    dovecot.add_user(user)
    dovecot.deliver(user, gateway_mail("gateway@sms.example.net", "Bitte um Rückruf", "<fix1@gw>",
                                       subject="SMS from 491701112222"))
    await account(app, dovecot, tenant_id, box_id, user, "imap", "imaps", number="+4930444000")
    held = await until(app, lambda: QuarantineEntry.get_or_none(QuarantineEntry.channel == "sms",
                                                                 QuarantineEntry.reason.contains("local part 'gateway'")))
    assert held is not None and "set the account's sender regex" in held.reason
    await app.db.call(lambda: MailAccount.update(sms_sender_regex=r"SMS from (\d+)")
                      .where(MailAccount.username == user).execute())
    token = await csrf_from(admin_http, "/admin/mail")
    async with admin_http.post(f"/api/v1/quarantine/{held.id}/reprocess", headers={"X-CSRF-Token": token}) as r:
        assert r.status == 200, await r.text()
    [msg] = await app.db.call(sms_messages, tenant_id)
    assert (msg.channel, msg.sender, msg.recipient, msg.body) == ("sms", "+491701112222", "+4930444000",
                                                                  "Bitte um Rückruf")


@pytest.mark.parametrize("body,field", [
    ({"kind": "sms-gateway", "sms_number": "not a number"}, "sms_number"),
    ({"kind": "sms-gateway", "sms_number": "+4930999999"}, "sms_number"),  # not this tenant's number
    ({"kind": "sms-gateway", "sms_number": NUMBER, "sms_sender_regex": "(unclosed"}, "sms_sender_regex"),
    ({"kind": "fax"}, "kind")])
async def test_the_api_checks_the_gateway_settings(app, admin_http, body, field) -> None:
    _, box_id = await sms_org(app, f"API {field} {len(body)}", "+4940" + str(7000 + len(body)))
    token = await csrf_from(admin_http, "/admin/mail")
    base = {"name": "gw", "mailbox_id": box_id, "host": "localhost", "username": "u", "password": "p"}
    async with admin_http.post("/api/v1/mail/accounts", json={**base, **body}, headers={"X-CSRF-Token": token}) as r:
        answer = await r.json()
    assert r.status == 400 and field in answer["fields"], answer


async def test_the_api_stores_a_gateway_account_and_the_page_shows_it(app, admin_http) -> None:
    _, box_id = await sms_org(app, "API ok", "+4930777000")
    token = await csrf_from(admin_http, "/admin/mail")
    body = {"name": "gw ok", "mailbox_id": box_id, "host": "localhost", "username": "u", "password": "p",
            "kind": "sms-gateway", "sms_number": "+49 30 777000", "sms_sender_regex": r"(\+?\d+)"}
    async with admin_http.post("/api/v1/mail/accounts", json=body, headers={"X-CSRF-Token": token}) as r:
        answer = await r.json()
    assert r.status == 201, answer
    assert (answer["kind"], answer["sms_number"], answer["sms_sender_regex"]) == ("sms-gateway", "+4930777000",
                                                                                 r"(\+?\d+)")
    async with admin_http.get("/admin/mail") as r:
        assert "SMS gateway for +4930777000" in await r.text()


async def test_the_add_account_form_takes_the_gateway_settings(app, admin_http) -> None:
    _, box_id = await sms_org(app, "Form", "+4930888000")
    token = await csrf_from(admin_http, "/admin/mail")
    form = {"csrf_token": token, "name": "gw form", "mailbox_id": str(box_id), "protocol": "pop3", "host": "localhost",
            "security": "tls", "username": "u", "password": "p", "kind": "sms-gateway", "sms_number": "12"}
    async with admin_http.post("/admin/mail/accounts", data=form, allow_redirects=False) as r:
        page = await r.text()
    assert r.status == 400 and 'id="f-sms_number"' in page and "aria-invalid" in page
    assert '<option value="sms-gateway" selected>' in page  # the choice is kept
    async with admin_http.post("/admin/mail/accounts", data={**form, "sms_number": "+49 30 888000"},
                               allow_redirects=False) as r:
        assert r.status == 302
    row = await app.db.call(MailAccount.get, MailAccount.name == "gw form")
    assert (row.kind, row.sms_number, row.sms_sender_regex) == ("sms-gateway", "+4930888000", "")
