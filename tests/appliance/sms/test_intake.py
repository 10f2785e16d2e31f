"""SMS intake on the database: routing by service number, the customer by sender, parts joined in any
order and across restarts, bad PDUs to quarantine, replays without duplicates, incomplete sets."""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.db import Database
from appliance.intake import quarantine
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.models import Message, ServiceAddress, Ticket
from appliance.models.auth import utcnow
from appliance.sms import outbox
from appliance.sms.intake import SmsDelivered, SmsProcessor
from appliance.sms.models import SmsOutbox, SmsPart
from hardware.gsm.fields import Address
from hardware.gsm.pdu import DeliverPdu, StatusReportPdu, encode_pdu, split_text
from tests.appliance.intake.helpers import make_store, open_db
from tests.appliance.sms.conftest import CUSTOMER_NUMBER, SERVICE_NUMBER, make_org

STAMP = datetime.datetime(2026, 11, 23, 9, 30, tzinfo=datetime.timezone.utc)
LONG = ("Guten Tag, mein Anschluss ist seit gestern gestört. Bitte rufen Sie mich zurück, am besten "
        "nachmittags. Die Kundennummer steht auf der Rechnung: 4711-0815. Danke! ") * 2


def deliver_pdus(text: str, sender: str = CUSTOMER_NUMBER, reference: int = 42,
                 stamp: datetime.datetime = STAMP) -> list[bytes]:
    """The SMS-DELIVER PDUs (with SMSC prefix) a network would store for `text`."""
    return [encode_pdu(DeliverPdu(sender=Address.parse(sender), timestamp=stamp, text=p.text, dcs=p.dcs, udh=p.udh,
                                  smsc=Address.parse("+46700000001")))
            for p in split_text(text, "+1", reference=reference)]


def entry(raw: bytes, modem: str = "gsm-a", number: str = SERVICE_NUMBER, **meta: object) -> SpoolEntry:
    return SpoolEntry(raw, f"gsm:{modem}:1", {"modem": modem, "number": number, **meta})


class Rig:
    """A migrated database, a store, and the SMS pipeline over a spool in tmp."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        self.db = open_db(database_url)
        self.store = make_store(tmp)
        self.processor = SmsProcessor(ModelTicketSink())
        self.tmp = tmp
        self.pipeline = self.new_pipeline()

    def new_pipeline(self) -> IntakePipeline:
        """A fresh pipeline over the same spool: what a restarted process builds."""
        return IntakePipeline(Spool(self.tmp / "spool", "sms"), self.db, self.store, self.processor)

    def q(self, fn, *args):
        with self.db.peewee.connection_context(), self.db.peewee.atomic():
            return fn(*args)

    async def feed(self, *raws: bytes, **meta: object) -> int:
        for raw in raws:
            await self.pipeline.accept([entry(raw, **meta)])
        return await self.pipeline.drain()


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    r = Rig(database_url, tmp_path)
    yield r
    r.db.close()


def messages(rig: Rig) -> list[Message]:
    return rig.q(lambda: list(Message.select().where(Message.channel == "sms").order_by(Message.id)))


async def test_single_sms_lands_on_a_ticket_of_the_numbers_mailbox_with_the_customer(rig: Rig) -> None:
    org = rig.q(make_org, "Acme")
    other = rig.q(lambda: make_org("Other", "+46700000999", customer_number=CUSTOMER_NUMBER))
    [raw] = deliver_pdus("Mein Router blinkt rot.")
    await rig.feed(raw)
    [msg] = messages(rig)
    ticket = rig.q(Ticket.get_by_id, msg.ticket_id)
    assert (msg.tenant_id, msg.sender, msg.recipient, msg.body) == (org["tenant_id"], CUSTOMER_NUMBER, SERVICE_NUMBER,
                                                                     "Mein Router blinkt rot.")
    assert (ticket.mailbox_id, ticket.customer_id, ticket.channel) == (org["mailbox_id"], org["customer_id"], "sms")
    assert ticket.customer_id != other["customer_id"]
    assert ticket.subject.startswith(f"SMS from {CUSTOMER_NUMBER}: Mein Router")
    # The next SMS of the same sender joins the same ticket.
    [raw2] = deliver_pdus("Jetzt geht gar nichts mehr.", stamp=STAMP + datetime.timedelta(minutes=5))
    await rig.feed(raw2)
    assert [m.ticket_id for m in messages(rig)] == [msg.ticket_id, msg.ticket_id]


async def test_replay_of_the_same_pdu_writes_nothing(rig: Rig) -> None:
    rig.q(make_org, "Acme")
    [raw] = deliver_pdus("twice?")
    await rig.feed(raw)
    # The SIM delete was lost in a crash: the modem hands the same PDU again, and the spool replays it.
    await rig.feed(raw)
    await rig.pipeline.accept([entry(raw)])
    await rig.new_pipeline().drain()
    assert len(messages(rig)) == 1


async def test_multipart_in_any_order_across_a_restart(rig: Rig) -> None:
    org = rig.q(make_org, "Acme")
    parts = deliver_pdus(LONG, reference=200)
    assert len(parts) == 3
    results: list = []
    rig.pipeline.on_delivered = results.extend
    await rig.feed(parts[2], parts[0])
    assert messages(rig) == [] and rig.q(lambda: SmsPart.select().where(SmsPart.state == "held").count()) == 2
    rig.pipeline = rig.new_pipeline()  # the process restarted: the held parts are in the database
    rig.pipeline.on_delivered = results.extend
    await rig.feed(parts[0], parts[1])  # a repeat of part 1 and the missing part 2
    [msg] = messages(rig)
    assert msg.body == LONG and msg.tenant_id == org["tenant_id"]
    assert rig.q(lambda: SmsPart.select().where(SmsPart.state == "held").count()) == 0
    [whole] = [r for r in results if isinstance(r, SmsDelivered)]
    assert whole.parts == 3 and whole.created_ticket
    await rig.feed(parts[1])  # a late repeat after the join: nothing new
    assert len(messages(rig)) == 1


async def test_two_long_messages_with_different_references_do_not_mix(rig: Rig) -> None:
    rig.q(make_org, "Acme")
    a, b = deliver_pdus("A" * 300, reference=1), deliver_pdus("B" * 300, reference=2)
    await rig.feed(a[0], b[1], b[0], a[1])
    assert sorted(m.body for m in messages(rig)) == ["A" * 300, "B" * 300]


async def test_bad_pdu_goes_to_quarantine_with_its_reason(rig: Rig) -> None:
    rig.q(make_org, "Acme")
    [good] = deliver_pdus("ok")
    truncated = good[:-5]
    await rig.feed(truncated)
    await rig.pipeline.accept([entry(b"ZZ-not-hex", error="PDU line is not hex")])
    await rig.pipeline.drain()
    items, _ = rig.q(quarantine.page)
    reasons = sorted(i["reason"] for i in items)
    assert len(items) == 2 and all(i["channel"] == "sms" for i in items)
    assert "undecodable SMS PDU from modem gsm-a" in reasons[1] and "not hex" in reasons[0]
    assert rig.store.get(rig.q(quarantine.get, items[0]["id"]).digest) in (truncated, b"ZZ-not-hex")
    assert messages(rig) == []


async def test_unknown_service_number_is_held_and_reprocessed_after_the_fix(rig: Rig) -> None:
    org = rig.q(make_org, "Acme")
    [raw] = deliver_pdus("to a number nobody serves")
    await rig.feed(raw, number="+46700000555")
    [item], _ = rig.q(quarantine.page)
    assert "+46700000555" in item["reason"] and "sms:+46700000555" in item["reason"]
    rig.q(lambda: ServiceAddress.create(tenant=org["tenant_id"], mailbox=org["mailbox_id"], kind="sms",
                                        value="+46700000555"))
    shown = await rig.pipeline.reprocess(item["id"])
    assert shown["state"] == "reprocessed" and "ticket" in shown["result"]
    [msg] = messages(rig)
    assert msg.recipient == "+46700000555" and msg.tenant_id == org["tenant_id"]


async def test_incomplete_set_is_delivered_after_the_timeout_naming_the_gap(rig: Rig) -> None:
    rig.q(make_org, "Acme")
    parts = deliver_pdus(LONG, reference=7)
    await rig.feed(parts[0], parts[2])
    assert rig.q(rig.processor.expire, utcnow() - datetime.timedelta(hours=1)) == []  # not old yet
    [result] = rig.q(rig.processor.expire, utcnow() + datetime.timedelta(seconds=1))
    assert result.incomplete and result.parts == 2
    [msg] = messages(rig)
    assert msg.body.startswith(LONG[:100]) and "part(s) 2 of 3 never arrived" in msg.body
    assert rig.q(rig.processor.expire, utcnow() + datetime.timedelta(seconds=1)) == []


async def test_a_status_report_read_from_the_sim_updates_the_outbox(rig: Rig) -> None:
    org = rig.q(make_org, "Acme")
    row = rig.q(lambda: outbox.enqueue(org["tenant_id"], CUSTOMER_NUMBER, "hello"))
    rig.q(outbox.mark_sent, row.id, "gsm-a", [77], True)
    report = encode_pdu(StatusReportPdu(reference=77, recipient=Address.parse(CUSTOMER_NUMBER), timestamp=STAMP,
                                        discharge_time=STAMP, status=0, smsc=Address.parse("+46700000001")))
    await rig.feed(report)
    assert rig.q(lambda: SmsOutbox.get_by_id(row.id).state) == "delivered"
    assert messages(rig) == []


async def test_binary_and_alphanumeric_senders_are_kept_readable(rig: Rig) -> None:
    rig.q(make_org, "Acme")
    from hardware.gsm.fields import Dcs
    binary = encode_pdu(DeliverPdu(sender=Address.parse("ACME Bank"), timestamp=STAMP, text=None,
                                   payload=bytes(range(10)), dcs=Dcs(0x04), smsc=Address.parse("+46700000001")))
    await rig.feed(binary)
    [msg] = messages(rig)
    assert msg.sender == "ACME Bank" and msg.body.startswith("(binary SMS, 10 bytes: 00 01 02")


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_never_escapes_prepare_except_as_a_rejection(raw: bytes) -> None:
    from appliance.intake.errors import RejectedInput
    processor = SmsProcessor(ModelTicketSink())
    try:
        prepared = processor.prepare(entry(raw))
    except RejectedInput as exc:
        assert exc.reason
    else:
        assert prepared.kind in ("deliver", "report", "ignore")
