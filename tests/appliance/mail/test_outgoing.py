"""Outgoing mail: desk replies with quoting and threading, the relay's answers, retry and back-off."""
from __future__ import annotations

import datetime
import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail import outbox, spam
from appliance.mail.compose import Quoted, build_reply, quote_text
from appliance.mail.intake import MailProcessor
from appliance.mail.models import MailOutbox
from appliance.mail.parse import Attachment, parse_mail
from appliance.mail.replies import queue_reply
from appliance.mail.smtp_out import RelayConfig, SendError, parse_relay_url, send
from appliance.models import Message
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.appliance.mail.corpus import mail
from tests.appliance.mail.servers import SmtpSink
from tests.pg import free_port


def test_reply_quotes_signs_off_and_threads() -> None:
    msg = build_reply(from_addr="support@acme.example", from_name="Acme Support", to=["alice@customer.example"],
                      subject="[Ticket#7] Re: Help", text="We sent a new printer.", salutation="Dear Alice,",
                      signature="Acme Support\nPhone 0800 123",
                      quoted=Quoted("m2@customer.example", ["m1@customer.example"], "alice@customer.example",
                                    "Mon, 23 Nov 2026", "It is on fire.\n\nPlease hurry."),
                      attachments=[Attachment("label.pdf", "application/pdf", b"%PDF-1.4")])
    out = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert out["In-Reply-To"] == "<m2@customer.example>"
    assert out["References"] == "<m1@customer.example> <m2@customer.example>"
    text = out.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Dear Alice,\n\nWe sent a new printer.\n\n-- \nAcme Support")
    assert "alice@customer.example wrote:\n> It is on fire.\n>\n> Please hurry." in text
    html = out.get_body(("html",)).get_content()
    assert "<blockquote>" in html and "It is on fire." in html
    [att] = list(out.iter_attachments())
    assert att.get_filename() == "label.pdf" and att.get_content() == b"%PDF-1.4"
    assert quote_text("a\nb", "x@y", "") == "x@y wrote:\n> a\n> b"


def test_spam_rules_and_an_absent_spamc_say_so() -> None:
    junk = parse_mail(b"Subject: FREE MONEY NOW\r\nX-Spam-Flag: YES\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                      b"--b\r\nContent-Type: text/plain\r\n\r\nclick\r\n--b\r\nContent-Type: application/octet-stream\r\n"
                      b"Content-Disposition: attachment; filename=invoice.exe\r\n\r\nMZ\r\n--b--\r\n")
    verdict = spam.verdict(junk, b"", spamc_path="/nonexistent/spamc")
    assert verdict.score >= 10 and any("executable" in r for r in verdict.reasons)
    assert verdict.spamc_status.startswith("not installed")
    clean = spam.verdict(parse_mail(mail()), mail())
    assert clean.score < 1 and clean.spamc_status == "not configured"


def test_desk_reply_goes_to_the_last_sender_with_threading(database_url: str, tmp_path: Path) -> None:
    import asyncio
    db = open_db(database_url)
    try:
        store = make_store(tmp_path)
        org = make_org(db, "Acme", ["support@acme.example"], {"signature": "Acme Support"})
        pipeline = IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, MailProcessor(store, ModelTicketSink()))

        async def run():
            await pipeline.accept([SpoolEntry(mail(), "t", {"rcpt": ["support@acme.example"]})])
            await pipeline.drain()
            ticket_id = (await db.call(Message.get)).ticket_id
            queued = await db.call(queue_reply, org.tenant_id, ticket_id, "A new printer is on its way.")
            row = await db.call(MailOutbox.get_by_id, queued.outbox_id)
            # The customer answers our reply: it threads back by In-Reply-To.
            answer = mail(subject="Re: Help", message_id="<m9@customer.example>",
                          headers={"In-Reply-To": f"<{queued.message_id}>"})
            await pipeline.accept([SpoolEntry(answer, "t", {"rcpt": ["support@acme.example"]})])
            await pipeline.drain()
            answered = await db.call(Message.get, Message.source_ref == "m9@customer.example")
            return ticket_id, row, answered
        ticket_id, row, answered = asyncio.run(run())
        out = message_from_bytes(bytes(row.raw), policy=policy.default)
        assert json.loads(row.rcpt_to) == ["alice@customer.example"] and row.kind == "reply"
        assert out["In-Reply-To"] == "<m1@customer.example>" and f"[Ticket#{ticket_id}]" in out["Subject"]
        body = out.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "A new printer is on its way." in body and "> My printer is on fire." in body and "Acme Support" in body
        assert answered.ticket_id == ticket_id
    finally:
        db.close()


def test_relay_answers_become_permanent_or_temporary_failures(smtp_sink: SmtpSink) -> None:
    raw = mail(sender="support@acme.example", to="alice@customer.example")
    good = parse_relay_url(f"starttls://relay:relay-pw@localhost:{smtp_sink.port}", ca_file=str(smtp_sink.cert))
    send(good, "support@acme.example", ["alice@customer.example"], raw)
    assert any(b"X-Envelope-To: alice@customer.example" in r for r in smtp_sink.received())
    with pytest.raises(SendError) as refused:
        send(RelayConfig("localhost", smtp_sink.port, "plain"), "support@acme.example", ["a@b.example"], raw)
    assert refused.value.permanent and "530" in str(refused.value)  # 5xx: retrying will not help
    with pytest.raises(SendError) as down:
        send(RelayConfig("localhost", free_port(), "starttls"), "support@acme.example", ["a@b.example"], raw)
    assert not down.value.permanent
    with pytest.raises(SendError) as pinned:
        send(RelayConfig("localhost", smtp_sink.port, "starttls", "relay", "relay-pw", pin_sha256="00" * 32),
             "support@acme.example", ["a@b.example"], raw)
    assert "pinned" in str(pinned.value)
    with pytest.raises(Exception, match="localhost only"):
        parse_relay_url("plain://mx.example.com:25")


def test_outbox_backs_off_then_gives_up(database_url: str, tmp_path: Path) -> None:
    db = open_db(database_url)
    try:
        org = make_org(db, "Acme", ["support@acme.example"])
        msg = build_reply(from_addr="support@acme.example", to=["a@b.example"], subject="x", text="y")
        with db.peewee.connection_context():
            row = outbox.enqueue(org.tenant_id, None, msg, "support@acme.example", ["a@b.example"])
            assert [r.id for r in outbox.due()] == [row.id]
            outbox.mark_failed(row.id, "421 try later", permanent=False)
            again = MailOutbox.get_by_id(row.id)
            assert again.state == "queued" and again.attempts == 1 and outbox.due() == []
            later = again.next_attempt_at + datetime.timedelta(seconds=1)
            assert [r.id for r in outbox.due(now=later)] == [row.id]
            assert [outbox.backoff_s(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
            assert outbox.backoff_s(100) == outbox.BACKOFF_MAX_S
            for _ in range(outbox.MAX_ATTEMPTS):
                outbox.mark_failed(row.id, "421 try later", permanent=False)
            assert MailOutbox.get_by_id(row.id).state == "failed"
            outbox.retry(row.id)
            assert MailOutbox.get_by_id(row.id).state == "queued"
            outbox.mark_sent(row.id)
            assert MailOutbox.get_by_id(row.id).state == "sent"
    finally:
        db.close()
