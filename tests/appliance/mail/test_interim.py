"""Interim replies per mailbox (E3): one to a mail ticket still unanswered after the mailbox's hours, marked as
automatic and threaded; none to an answered ticket, none twice, none to tickets older than the catch-up window."""
from __future__ import annotations

import asyncio
import datetime
import json
from email import message_from_bytes, policy
from pathlib import Path

from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail import interim
from appliance.mail.intake import MailProcessor
from appliance.mail.models import MailOutbox
from appliance.mail.replies import queue_reply
from appliance.models import Message, Mailbox
from appliance.models.access.mail_content import MailContent
from appliance.models.auth import utcnow
from appliance.models.content import ReplyTemplate
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.appliance.mail.corpus import mail

HOUR = datetime.timedelta(hours=1)


async def _arrive(db, store, tmp_path: Path, *raws: bytes) -> list[int]:
    pipeline = IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, MailProcessor(store, ModelTicketSink()))
    await pipeline.accept([SpoolEntry(r, "test", {"rcpt": ["support@acme.example"]}) for r in raws])
    await pipeline.drain()
    return [m.ticket_id for m in await db.call(lambda: list(Message.select().where(Message.direction == "in")
                                                             .order_by(Message.id)))]


def test_one_interim_reply_to_an_unanswered_ticket(database_url: str, tmp_path: Path) -> None:
    db = open_db(database_url)
    try:
        acme = make_org(db, "Acme", ["support@acme.example"],
                        {"interim_reply": {"enabled": True, "after_hours": 24, "text": "In Arbeit: Ticket {ticket}."}})

        async def run():
            waiting, answered = await _arrive(db, make_store(tmp_path), tmp_path,
                                              mail(), mail(sender="bob@x.example", message_id="<b1@x.example>",
                                                           subject="Other"))
            await db.call(queue_reply, acme.tenant_id, answered, "Done.")  # a person answered this one
            now = utcnow()
            early = await db.call(interim.queue_due, now + 23 * HOUR)
            due = await db.call(interim.queue_due, now + 25 * HOUR)
            again = await db.call(interim.queue_due, now + 26 * HOUR)
            too_old = await db.call(interim.queue_due, now + 50 * HOUR)
            rows = await db.call(lambda: list(MailOutbox.select().where(MailOutbox.kind == "interim")))
            return waiting, early, due, again, too_old, rows
        waiting, early, due, again, too_old, rows = asyncio.run(run())
    finally:
        db.close()
    assert (early, due, again, too_old) == ([], [waiting], [], [])
    [row] = rows
    sent = message_from_bytes(bytes(row.raw), policy=policy.default)
    assert sent["Auto-Submitted"] == "auto-replied" and sent["In-Reply-To"] == "<m1@customer.example>"
    assert json.loads(row.rcpt_to) == ["alice@customer.example"]
    text = sent.get_body(("plain",)).get_content()
    assert text.startswith(f"In Arbeit: Ticket {waiting}.") and "wrote:" not in text  # no quote of the question


def test_the_interim_reply_from_a_template(database_url: str, tmp_path: Path) -> None:
    db = open_db(database_url)
    try:
        acme = make_org(db, "Acme", ["support@acme.example"])

        def configure() -> None:
            tpl = ReplyTemplate.create(tenant=acme.tenant_id, name="Zwischenbescheid", visibility="tenant",
                                       body_text="Ticket {{ ticket.number }} zu „{{ ticket.subject }}“ ist in Arbeit.")
            Mailbox.update(settings=json.dumps({"interim_reply": {"enabled": True, "after_hours": 2,
                                                                  "template_id": tpl.id}})).execute()

        async def run():
            await db.call(configure)
            store = make_store(tmp_path)
            [ticket] = await _arrive(db, store, tmp_path, mail())
            await db.call(interim.queue_due, utcnow() + 3 * HOUR, None, MailContent(store))
            [row] = await db.call(lambda: list(MailOutbox.select().where(MailOutbox.kind == "interim")))
            return ticket, row
        ticket, row = asyncio.run(run())
    finally:
        db.close()
    text = message_from_bytes(bytes(row.raw), policy=policy.default).get_body(("plain",)).get_content()
    assert text.startswith(f"Ticket {ticket} zu „Help“ ist in Arbeit.")
