"""The mailbox's auto-reply written as a reply template (E3): rendered with the new ticket's variables, and the
plain auto-reply text when the template is gone, personal, or of another tenant."""
from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail.intake import MailProcessor
from appliance.mail.models import MailOutbox
from appliance.models.access.mail_content import MailContent
from appliance.models import Customer, CustomerIdentifier, Mailbox, Message
from appliance.models.content import ReplyTemplate
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.appliance.mail.corpus import mail


def _setup(db, template_owner: str = "tenant") -> tuple:
    acme = make_org(db, "Acme", ["support@acme.example"])
    other = make_org(db, "Other", ["help@other.example"])

    def work() -> int:
        customer = Customer.create(tenant=acme.tenant_id, name="Alice Åkesson")
        CustomerIdentifier.create(tenant=acme.tenant_id, customer=customer, kind="email",
                                  value="alice@customer.example")
        owner = other.tenant_id if template_owner == "other" else acme.tenant_id
        tpl = ReplyTemplate.create(tenant=owner, name="Eingang", visibility="tenant",
                                   salutation="Hej {{ customer.name }},",
                                   body_text="wir haben Ihre Nachricht zu „{{ ticket.subject }}“ als Ticket "
                                             "{{ ticket.number }} erhalten.",
                                   signature="{{ mailbox.name }}, {{ mailbox.address }}")
        settings = {"auto_reply": {"enabled": True, "template_id": tpl.id, "text": "Got it: {ticket}."}}
        Mailbox.update(settings=json.dumps(settings)).where(Mailbox.id == acme.mailbox_id).execute()
        return tpl.id
    return acme, _in_db(db, work)


def _in_db(db, fn):
    with db.peewee.connection_context(), db.peewee.atomic():
        return fn()


async def _first_auto_reply(db, store, tmp_path: Path):
    pipeline = IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, MailProcessor(store, ModelTicketSink(),
                                                                                     content=MailContent(store)))
    await pipeline.accept([SpoolEntry(mail(), "test", {"rcpt": ["support@acme.example"]})])
    await pipeline.drain()
    [queued] = await db.call(lambda: list(MailOutbox.select()))
    ticket_id = (await db.call(Message.get, Message.direction == "in")).ticket_id
    sent = message_from_bytes(bytes(queued.raw), policy=policy.default)
    return ticket_id, sent.get_body(("plain",)).get_content().replace("\r\n", "\n")


async def test_the_auto_reply_template_is_rendered_for_the_new_ticket(database_url: str, tmp_path: Path) -> None:
    db = open_db(database_url)
    try:
        _setup(db)
        ticket_id, text = await _first_auto_reply(db, make_store(tmp_path), tmp_path)
    finally:
        db.close()
    assert text.startswith(f"Hej Alice Åkesson,\n\nwir haben Ihre Nachricht zu „Help“ als Ticket {ticket_id} "
                           "erhalten.\n\n-- \nSupport, support@acme.example\n")


async def test_another_tenants_template_is_not_used(database_url: str, tmp_path: Path) -> None:
    db = open_db(database_url)
    try:
        _setup(db, template_owner="other")
        ticket_id, text = await _first_auto_reply(db, make_store(tmp_path), tmp_path)
    finally:
        db.close()
    assert text.startswith(f"Got it: {ticket_id}.") and "Alice" not in text


async def test_the_auto_reply_carries_the_templates_pictures_inline(database_url: str, tmp_path: Path) -> None:
    """E4: the logo of the tenant goes inline by cid:; a picture gone from the store gives way to its alt text."""
    import io

    from PIL import Image

    from appliance.models.content import ContentImage
    store = make_store(tmp_path)
    out = io.BytesIO()
    Image.new("RGB", (30, 10), (0, 90, 0)).save(out, "PNG")
    logo = out.getvalue()
    digest = store.put(logo)
    db = open_db(database_url)
    try:
        acme, tpl_id = _setup(db)

        def pictures() -> None:
            ContentImage.create(tenant=acme.tenant_id, name="logo", digest=digest, mime="image/png", size=len(logo),
                                width=30, height=10, alt="Acme")
            ContentImage.create(tenant=acme.tenant_id, name="stamp", digest="e" * 64, mime="image/png", size=1,
                                width=1, height=1, alt="Stempel")
            ReplyTemplate.update(body_html="<p>{{ image.logo }} Danke!</p><p>{{ image.stamp }}</p>").where(
                ReplyTemplate.id == tpl_id).execute()
        _in_db(db, pictures)
        await _first_auto_reply(db, store, tmp_path)
        [queued] = await db.call(lambda: list(MailOutbox.select()))
    finally:
        db.close()
    sent = message_from_bytes(bytes(queued.raw), policy=policy.default)
    related = sent.get_body(("related",))
    html_part, picture = related.get_payload()
    html = html_part.get_content()
    assert f'src="cid:{picture["Content-ID"].strip("<>")}"' in html and picture.get_content() == logo
    assert "<p>Stempel</p>" in html and "/images/" not in html
