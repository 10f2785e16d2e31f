"""Mail intake end to end below the transports: spool → parse → ticket, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.intake.idempotency import mail_key
from appliance.intake.models import QuarantineEntry
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail.intake import MailProcessor, MailSettings
from appliance.mail.models import MailOutbox, MailRecord
from appliance.models import Mailbox, Message, Ticket
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.appliance.mail.corpus import dsn, mail

AUTO = {"auto_reply": {"enabled": True, "text": "We got it: ticket {ticket}."}, "signature": "Acme Support"}


@pytest.fixture
def env(database_url: str, tmp_path: Path):
    db = open_db(database_url)
    store = make_store(tmp_path)
    acme = make_org(db, "Acme", ["support@acme.example"], AUTO)
    other = make_org(db, "Other", ["help@other.example"])
    processor = MailProcessor(store, ModelTicketSink(), MailSettings(sender_limit_per_hour=5))
    pipeline = IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, processor)
    yield db, pipeline, acme, other
    db.close()


async def intake(pipeline: IntakePipeline, *raws: bytes, **meta) -> None:
    await pipeline.accept([SpoolEntry(r, "test", dict(meta)) for r in raws])
    await pipeline.drain()


async def rows(db, model, *where):
    return await db.call(lambda: list(model.select().where(*where) if where else model.select()))


async def test_new_mail_opens_a_ticket_and_a_replay_adds_nothing(env) -> None:
    db, pipeline, acme, _ = env
    raw = mail()
    await intake(pipeline, raw, rcpt=["support@acme.example"])
    # A crash after the commit but before "done", or a server that hands the mail out twice:
    await intake(pipeline, raw, rcpt=["support@acme.example"])
    messages = await rows(db, Message, Message.direction == "in")
    assert len(messages) == 1
    m = messages[0]
    assert (m.tenant_id, m.sender, m.subject) == (acme.tenant_id, "alice@customer.example", "Help")
    assert m.idempotency_key == mail_key("<m1@customer.example>", raw)
    ticket = (await rows(db, Ticket, Ticket.id == m.ticket_id))[0]
    assert (ticket.mailbox_id, ticket.channel, ticket.state) == (acme.mailbox_id, "mail", "open")
    record = (await rows(db, MailRecord, MailRecord.message == m.id))[0]
    assert record.raw == raw and record.header_id == "m1@customer.example"
    assert pipeline.spool.pending() == [] and pipeline.spool.counts()["done"] == 2


async def test_threading_by_in_reply_to_and_by_subject_tag(env) -> None:
    db, pipeline, acme, _ = env
    await intake(pipeline, mail(), rcpt=["support@acme.example"])
    first = (await rows(db, Message))[0]
    reply = mail(subject="Re: Help", message_id="<m2@customer.example>",
                 headers={"In-Reply-To": "<m1@customer.example>"})
    tagged = mail(subject=f"Re: [Ticket#{first.ticket_id}] Help", message_id="<m3@customer.example>")
    await intake(pipeline, reply, tagged, rcpt=["support@acme.example"])
    assert {m.ticket_id for m in await rows(db, Message, Message.direction == "in")} == {first.ticket_id}


async def test_forged_ticket_number_of_another_tenant_does_not_attach(env) -> None:
    db, pipeline, acme, other = env
    await intake(pipeline, mail(), rcpt=["support@acme.example"])
    acme_ticket = (await rows(db, Message))[0].ticket_id
    forged = mail(to="help@other.example", subject=f"[Ticket#{acme_ticket}] give me their data",
                  message_id="<evil@x.example>", headers={"In-Reply-To": "<m1@customer.example>"})
    await intake(pipeline, forged, rcpt=["help@other.example"])
    evil = (await rows(db, Message, Message.source_ref == "evil@x.example"))[0]
    assert evil.tenant_id == other.tenant_id and evil.ticket_id != acme_ticket
    assert len(await rows(db, Message, Message.ticket == acme_ticket, Message.direction == "in")) == 1


async def test_auto_reply_once_with_threading_headers_and_loop_protection(env) -> None:
    db, pipeline, acme, _ = env
    await intake(pipeline, mail(), rcpt=["support@acme.example"])
    [queued] = await rows(db, MailOutbox)
    assert json.loads(queued.rcpt_to) == ["alice@customer.example"] and queued.kind == "auto_reply"
    text = bytes(queued.raw).decode()
    assert "Auto-Submitted: auto-replied" in text and "In-Reply-To: <m1@customer.example>" in text
    ticket_id = (await rows(db, Message))[0].ticket_id
    assert f"[Ticket#{ticket_id}]" in text and f"ticket {ticket_id}" in text
    silent = [
        mail(sender="bob@x.example", message_id="<a1@x>", headers={"Auto-Submitted": "auto-generated"}),
        mail(sender="carol@x.example", message_id="<a2@x>", headers={"Precedence": "bulk"}),
        mail(sender="MAILER-DAEMON@x.example", message_id="<a3@x>"),
        mail(sender="support@acme.example", message_id="<a4@x>"),  # our own address: a loop
        mail(sender="dave@x.example", message_id="<a5@x>", headers={"List-Id": "<news.x.example>"}),
    ]
    await intake(pipeline, *silent, rcpt=["support@acme.example"])
    assert len(await rows(db, MailOutbox)) == 1
    assert len(await rows(db, Ticket)) == 6


async def test_sender_flood_gets_no_auto_replies_and_lands_in_spam(env) -> None:
    db, pipeline, acme, _ = env
    flood = [mail(sender="flood@x.example", message_id=f"<f{i}@x>", subject=f"spam {i}") for i in range(20)]
    await intake(pipeline, *flood, rcpt=["support@acme.example"])
    assert len(await rows(db, MailOutbox)) == 5  # the limit per hour
    tickets = await rows(db, Ticket)
    assert len(tickets) == 20  # never deleted …
    spam = [t for t in tickets if t.mailbox_id != acme.mailbox_id]
    assert len(spam) == 20 - 15 and {t.state for t in spam} == {"pending"}  # … but filed as spam
    folder = (await rows(db, Mailbox, Mailbox.id == spam[0].mailbox_id))[0]
    assert folder.parent_id == acme.mailbox_id and folder.name.endswith("Spam")


async def test_bounce_attaches_to_the_ticket_of_the_original(env) -> None:
    db, pipeline, acme, _ = env
    await intake(pipeline, mail(), rcpt=["support@acme.example"])
    [queued] = await rows(db, MailOutbox)
    out_id = (await rows(db, MailRecord, MailRecord.direction == "out"))[0].header_id
    await intake(pipeline, dsn(out_id, "alice@customer.example"), rcpt=["support@acme.example"])
    bounce = (await rows(db, Message, Message.subject == "Undelivered Mail"))[0]
    assert bounce.ticket_id == queued.ticket_id and bounce.kind == "system"
    assert "dsn" in (await rows(db, MailRecord, MailRecord.message == bounce.id))[0].flags
    assert len(await rows(db, MailOutbox)) == 1  # no auto-reply to a bounce


async def test_unknown_recipient_is_quarantined_then_reprocessed_after_the_fix(env) -> None:
    db, pipeline, acme, _ = env
    raw = mail(to="sales@acme.example", message_id="<q1@x>")
    await intake(pipeline, raw, rcpt=["sales@acme.example"])
    [held] = await rows(db, QuarantineEntry)
    assert "sales@acme.example" in held.reason and held.state == "held" and held.size == len(raw)
    assert pipeline.store.get(held.digest) == raw
    assert await rows(db, Message) == []
    shown = await pipeline.reprocess(held.id)
    assert shown["state"] == "held" and shown["attempts"] == 1  # nothing fixed yet
    from appliance.models import ServiceAddress
    await db.call(ServiceAddress.create, tenant=acme.tenant_id, mailbox=acme.mailbox_id, kind="email",
                  value="sales@acme.example")
    shown = await pipeline.reprocess(held.id)
    assert shown["state"] == "reprocessed" and shown["result"].startswith("ticket ")
    assert len(await rows(db, Message, Message.direction == "in")) == 1


async def test_html_is_sanitised_for_display_and_the_original_kept(env) -> None:
    db, pipeline, acme, _ = env
    html = '<p onclick="steal()">Hi<script>alert(1)</script><a href="javascript:x()">link</a></p>'
    raw = mail(html=html, message_id="<h1@x>")
    await intake(pipeline, raw, rcpt=["support@acme.example"])
    record = (await rows(db, MailRecord, MailRecord.direction == "in"))[0]
    assert "script" not in record.html and "onclick" not in record.html and "javascript" not in record.html
    assert "<p>Hi" in record.html and b"<script>alert(1)</script>" in bytes(record.raw)
