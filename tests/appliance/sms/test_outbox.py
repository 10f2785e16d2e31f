"""The outbox rules on the database: which agent messages are queued, where they go, what a report changes."""
from __future__ import annotations

import datetime
from typing import Iterator

import pytest

from appliance.db import Database
from appliance.models import Message, Ticket
from appliance.models.auth import utcnow
from appliance.sms import outbox
from appliance.sms.models import SmsOutbox
from tests.appliance.intake.helpers import open_db
from tests.appliance.sms.conftest import CUSTOMER_NUMBER, SERVICE_NUMBER, make_org


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_db(database_url)
    yield database
    database.close()


def run(db: Database, fn, *args):
    with db.peewee.connection_context(), db.peewee.atomic():
        return fn(*args)


def _ticket_with_sms(org: dict[str, int], sender: str = CUSTOMER_NUMBER) -> Ticket:
    ticket = Ticket.create(tenant=org["tenant_id"], subject="SMS", channel="sms", mailbox=org["mailbox_id"],
                           due_at=utcnow())
    Message.create(tenant=org["tenant_id"], ticket=ticket, channel="sms", direction="in", sender=sender,
                   recipient=SERVICE_NUMBER, body="help")
    return ticket


def test_agent_sms_messages_are_queued_once_with_their_route(db: Database) -> None:
    org = run(db, make_org, "Acme")

    def setup() -> tuple[int, int, int, int]:
        ticket = _ticket_with_sms(org)
        reply = Message.create(tenant=org["tenant_id"], ticket=ticket, channel="sms", direction="out", body="on it")
        typed = Message.create(tenant=org["tenant_id"], ticket=ticket, channel="sms", direction="out",
                               recipient="0171 5550000", body="to another phone")
        note = Message.create(tenant=org["tenant_id"], ticket=ticket, channel="sms", direction="internal", body="x")
        old = Message.create(tenant=org["tenant_id"], ticket=ticket, channel="sms", direction="out", body="imported",
                             created_at=utcnow() - datetime.timedelta(days=30))
        return reply.id, typed.id, note.id, old.id
    reply_id, typed_id, note_id, old_id = run(db, setup)
    queued, after = run(db, outbox.scan_replies, 0)
    assert queued == 2
    again, _ = run(db, outbox.scan_replies, 0)
    assert again == 0, "a second scan must not queue the same message twice"
    rows = run(db, lambda: {r.message_id: r for r in SmsOutbox.select()})
    assert set(rows) == {reply_id, typed_id}
    assert (rows[reply_id].to_number, rows[reply_id].from_number, rows[reply_id].state) == \
        (CUSTOMER_NUMBER, SERVICE_NUMBER, "queued")
    assert rows[typed_id].to_number == "+491715550000"  # national number read in the tenant's region (DE)
    assert after >= 0


def test_a_reply_without_any_number_fails_visibly(db: Database) -> None:
    org = run(db, lambda: make_org("Nobody", customer_number=None))

    def setup() -> int:
        ticket = Ticket.create(tenant=org["tenant_id"], subject="phone call", channel="phone", due_at=utcnow())
        return Message.create(tenant=org["tenant_id"], ticket=ticket, channel="sms", direction="out", body="hi").id
    message_id = run(db, setup)
    run(db, outbox.scan_replies, 0)
    row = run(db, lambda: SmsOutbox.get(SmsOutbox.message == message_id))
    assert row.state == "failed" and "no phone number" in row.last_error


def test_reports_match_by_modem_and_reference_and_decide_the_state(db: Database) -> None:
    org = run(db, make_org, "Reports")

    def setup() -> tuple[int, int]:
        a = outbox.enqueue(org["tenant_id"], CUSTOMER_NUMBER, "two parts")
        b = outbox.enqueue(org["tenant_id"], "+4930123456", "one part")
        outbox.mark_sent(a.id, "gsm-a", [7, 8], True)
        outbox.mark_sent(b.id, "gsm-b", [7], True)
        return a.id, b.id
    a, b = run(db, setup)
    # The same TP-MR on another modem is another message.
    seen = run(db, outbox.apply_report, "gsm-b", 7, 0x00, "+4930123456")
    assert (seen.outbox_id, seen.state) == (b, "delivered")
    assert run(db, outbox.apply_report, "gsm-a", 7, 0x21, CUSTOMER_NUMBER).state == "sent"  # still trying
    assert run(db, outbox.apply_report, "gsm-a", 7, 0x00, CUSTOMER_NUMBER).state == "sent"  # part 2 open
    assert run(db, outbox.apply_report, "gsm-a", 8, 0x00, CUSTOMER_NUMBER).state == "delivered"
    assert run(db, outbox.apply_report, "gsm-a", 99, 0x00, CUSTOMER_NUMBER).outbox_id is None


def test_permanent_error_makes_it_undeliverable_and_retries_back_off(db: Database) -> None:
    org = run(db, make_org, "Errors")
    row = run(db, lambda: outbox.enqueue(org["tenant_id"], CUSTOMER_NUMBER, "x"))
    run(db, outbox.mark_sent, row.id, "gsm-a", [3], True)
    assert run(db, outbox.apply_report, "gsm-a", 3, 0x41, CUSTOMER_NUMBER).state == "undeliverable"
    other = run(db, lambda: outbox.enqueue(org["tenant_id"], CUSTOMER_NUMBER, "y"))
    assert run(db, outbox.mark_failed, other.id, "no network", False, 3) == "queued"
    assert run(db, outbox.due) == []  # backed off
    assert run(db, outbox.mark_failed, other.id, "no network", False, 3) == "queued"
    assert run(db, outbox.mark_failed, other.id, "no network", False, 3) == "failed"
    assert outbox.backoff_s(1) < outbox.backoff_s(2) < outbox.backoff_s(30) == outbox.BACKOFF_MAX_S
