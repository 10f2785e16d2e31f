"""E-mail replies from the desk over HTTP: a mail arrives over SMTP, the agent uploads a file (CSRF, size limit,
tenant), replies with salutation and signature, and the queued mail threads, carries the file and lists it on
the timeline; another tenant reaches none of it."""
from __future__ import annotations

import asyncio
import smtplib
from email import message_from_bytes, policy

import aiohttp

from appliance.webui import routes_reply
from tests.appliance.api.client import tenant_with_admin
from tests.appliance.mail.corpus import mail
from tests.appliance.webui.helpers import csrf_from, login
from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup

CUSTOMER_MID = "<order-4711@example.pl>"


async def deliver_and_wait(appliance, acme, subject: str = "Rechnung 4711 fehlt") -> dict:
    """A customer's mail through the appliance's own SMTP listener; the ticket it became."""
    port = appliance.supervisor.service("mail").smtp_port
    raw = mail(sender="Zbigniew Łukasiewicz <zbigniew@example.pl>", to="support@acme.example", subject=subject,
               body="Wo bleibt meine Rechnung?", message_id=CUSTOMER_MID,
               headers={"References": "<earlier@example.pl>", "In-Reply-To": "<earlier@example.pl>"})

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("zbigniew@example.pl", ["support@acme.example"], raw)
    await asyncio.get_running_loop().run_in_executor(None, send)
    for _ in range(200):
        found = (await acme.get("/tickets", q=subject))["items"]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError("the mail did not become a ticket")


async def agent_http(http, appliance) -> str:
    """The agent logged in through the form; the desk's CSRF token."""
    http.cookie_jar.clear()
    await login(http, "agnes", AGENT_PASSWORD)
    return await csrf_from(http, "/desk")


def _file(name: str, data: bytes, mime: str = "application/pdf") -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)  # as a browser sends it: the UTF-8 name, not %-encoded
    form.add_field("file", data, filename=name, content_type=mime)
    return form


async def test_mail_reply_with_salutation_signature_and_attachment(appliance, first_boot, http, monkeypatch) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme = office["acme"]
    ticket = await deliver_and_wait(appliance, acme)
    await acme.patch(f"/tickets/{ticket['id']}", {"owner_id": office["agent"]["id"]})
    token = await agent_http(http, appliance)
    h = {"X-CSRF-Token": token}
    async with http.post(f"/desk/tickets/{ticket['id']}/attachments", data=_file("a.pdf", b"%PDF")) as r:
        assert r.status == 403  # no CSRF token
    monkeypatch.setattr(routes_reply, "ATTACHMENT_MAX_BYTES", 1000)
    async with http.post(f"/desk/tickets/{ticket['id']}/attachments", headers=h,
                         data=_file("big.pdf", b"x" * 1001)) as r:
        assert r.status == 400 and "file" in (await r.json())["fields"]
    monkeypatch.undo()
    pdf = b"%PDF-1.4\n% Rechnung 4711\n" + bytes(range(256)) * 40
    async with http.post(f"/desk/tickets/{ticket['id']}/attachments", headers=h,
                         data=_file("../../Rechnung 4711 – Kopie.pdf", pdf)) as r:
        doc = await r.json()
        assert r.status == 201, doc
    assert doc["filename"] == "Rechnung 4711 – Kopie.pdf" and doc["size"] == len(pdf)
    body = {"channel": "mail", "recipient": "zbigniew@example.pl", "salutation": "Guten Tag Herr Łukasiewicz,",
            "text": "anbei die Rechnung.", "signature": "Agnes Åström\nAcme", "attachment_ids": [doc["id"]]}
    async with http.post(f"/desk/tickets/{ticket['id']}/reply", headers=h,
                         json={**body, "attachment_ids": [doc["id"] + 1000]}) as r:
        assert r.status == 400 and "attachment_ids" in (await r.json())["fields"]
    async with http.post(f"/desk/tickets/{ticket['id']}/reply", headers=h,
                         json={**body, "recipient": "not an address"}) as r:
        assert r.status == 400 and "recipient" in (await r.json())["fields"]
    body["idempotency_key"] = "draft-1"
    for _ in range(2):  # the answer got lost and the desk sends again: still one mail
        async with http.post(f"/desk/tickets/{ticket['id']}/reply", headers=h, json=body) as r:
            assert r.status == 200, await r.text()

    from appliance.mail.models import MailOutbox
    rows = await appliance.db.call(lambda: list(MailOutbox.select().where(MailOutbox.ticket == ticket["id"],
                                                                           MailOutbox.kind == "reply")))
    assert len(rows) == 1
    sent = message_from_bytes(bytes(rows[0].raw), policy=policy.default)
    assert sent["From"] == "support@acme.example" and sent["To"] == "zbigniew@example.pl"
    assert sent["In-Reply-To"] == CUSTOMER_MID
    assert sent["References"] == f"<earlier@example.pl> {CUSTOMER_MID}"
    assert f"[Ticket#{ticket['id']}]" in sent["Subject"]
    text = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Guten Tag Herr Łukasiewicz,\n\nanbei die Rechnung.\n\n-- \nAgnes Åström\nAcme")
    assert "> Wo bleibt meine Rechnung?" in text
    [att] = list(sent.iter_attachments())
    assert att.get_filename() == "Rechnung 4711 – Kopie.pdf" and att.get_content() == pdf

    async with http.get(f"/api/v1/tickets/{ticket['id']}/messages") as r:
        out = [m for m in (await r.json())["items"] if m["direction"] == "out" and m["kind"] == "reply"]
    async with http.get(f"/desk/tickets/{ticket['id']}/attachments") as r:
        listed = (await r.json())["messages"]
    assert [f["filename"] for f in listed[str(out[-1]["id"])]] == ["Rechnung 4711 – Kopie.pdf"]
    async with http.get(f"/desk/tickets/{ticket['id']}/documents/{doc['digest']}") as r:
        assert r.status == 200 and await r.read() == pdf
        assert r.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''Rechnung%204711%20%E2%80%93%20Kopie.pdf" in r.headers["Content-Disposition"]

    # Another tenant's agent can neither upload to, reply on, list nor download from this ticket.
    admin = office["admin"]
    _, globex = await tenant_with_admin(admin, "Globex")
    await globex.post("/users", {"username": "gustav", "role": "agent", "password": "gustav-Pass-123"})
    http.cookie_jar.clear()
    await login(http, "gustav", "gustav-Pass-123")
    other = {"X-CSRF-Token": await csrf_from(http, "/desk")}
    async with http.post(f"/desk/tickets/{ticket['id']}/attachments", headers=other,
                         data=_file("x.pdf", b"%PDF")) as r:
        assert r.status == 404
    async with http.post(f"/desk/tickets/{ticket['id']}/reply", headers=other, json=body) as r:
        assert r.status == 404
    for path in (f"/desk/tickets/{ticket['id']}/attachments",
                 f"/desk/tickets/{ticket['id']}/documents/{doc['digest']}"):
        async with http.get(path) as r:
            assert r.status == 404, path


async def test_a_mail_reply_needs_an_address_to_send_from(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    loose = await office["acme"].post("/tickets", {"subject": "No mailbox", "channel": "mail",
                                                   "owner_id": office["agent"]["id"]})
    token = await agent_http(http, appliance)
    async with http.post(f"/desk/tickets/{loose['id']}/reply", headers={"X-CSRF-Token": token},
                         json={"channel": "mail", "recipient": "z@example.pl", "text": "Hallo"}) as r:
        answer = await r.json()
    assert r.status == 400 and "e-mail address" in answer["fields"]["recipient"]
