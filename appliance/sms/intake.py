"""SMS into tickets: the SMS channel's intake processor (prepare: decode; commit: route, join parts, rows).

Each PDU the modem stores is one spool entry (raw = the PDU with its SMSC prefix, as +CMGL gives it;
meta = the modem's name and its service number). Keys (DESIGN.md "Intake"):
- a single-part message: `sms:<SHA-256 of the PDU>` — a replay from the spool, or the same PDU read
  again because the SIM delete was lost in a crash, maps to the same key;
- a concatenated message: `sms:<sender>:<SC time stamp of part 1>:<reference>:<total>`; its parts
  wait in `sms_part` (unique by PDU digest) until the set is complete, so a restart loses none.
"""
from __future__ import annotations

import datetime
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from appliance.domain.identifiers import normalise_phone
from appliance.intake.errors import RejectedInput
from appliance.intake.idempotency import KEY_MAX, content_key
from appliance.intake.sink import Delivery, InboundMessage, TicketSink
from appliance.intake.spool import SpoolEntry
from appliance.mail.models import MailAccount
from appliance.models import Message, ServiceAddress, Tenant, Ticket
from appliance.models.auth import utcnow
from appliance.sms import inbound_http, inbound_mail, outbox
from appliance.sms.models import SmsPart
from hardware.gsm.errors import PduError
from hardware.gsm.fields import Ton
from hardware.gsm.pdu import DeliverPdu, StatusReportPdu, SubmitPdu, decode_pdu
from hardware.gsm.reassembly import Reassembler

CHANNEL = "sms"
ADDRESS_KINDS = ("sms", "phone")        # a modem's number is configured as sms:+…; a voice number also serves
THREAD_WINDOW = datetime.timedelta(days=14)  # an SMS joins the sender's SMS ticket active this recently
SUBJECT_TEXT = 60
ROUTE_CACHE_S = 30.0                        # how long a service number's owner is remembered
BINARY_SHOWN = 140                          # bytes of an 8-bit payload shown as hex in the body


@dataclass(frozen=True)
class PreparedSms:
    """A decoded PDU and what kind of input it is: deliver (SMS-DELIVER), report, or ignore."""

    kind: str
    pdu: DeliverPdu | StatusReportPdu | SubmitPdu | inbound_http.InboundSms
    digest: str


@dataclass(frozen=True)
class SmsDelivered:
    """A whole message (one PDU or every part of a set) on a ticket."""

    tenant_id: int
    ticket_id: int
    message_id: int
    created_ticket: bool
    duplicate: bool
    parts: int = 1
    incomplete: bool = False


@dataclass(frozen=True)
class PartHeld:
    """One part of a concatenated message stored until the rest comes."""

    tenant_id: int
    set_key: str
    have: int
    total: int
    duplicate: bool = False


@dataclass(frozen=True)
class Skipped:
    """Input that is not a received message (an outgoing draft left on the SIM) and needs nothing."""

    reason: str


def modem_of(entry: SpoolEntry) -> str:
    """The name of the modem an entry came from."""
    return str(entry.meta.get("modem", "?"))


def sender_text(pdu: DeliverPdu, region: str) -> str:
    """The sender as E.164 when it is a number (national ones read in the tenant's region), else as sent."""
    text = str(pdu.sender)
    if pdu.sender.ton == Ton.ALPHANUMERIC or not text.strip("+").isdigit():
        return text
    try:
        return normalise_phone(text, region)
    except ValueError:
        return text


def route(number: str) -> tuple[int, int | None, str]:
    """(tenant, mailbox, region) of the mailbox serving `number`; RejectedInput when none does."""
    for kind in ADDRESS_KINDS:
        row = ServiceAddress.get_or_none((ServiceAddress.kind == kind) & (ServiceAddress.value == number))
        if row is not None:
            return row.tenant_id, row.mailbox_id, Tenant.get_by_id(row.tenant_id).region or "DE"
    shown = number or "(no number configured for the modem)"
    raise RejectedInput(f"no mailbox serves the number {shown} that received this SMS; add it as a service "
                        f"address sms:{number or '+…'} to a mailbox (and set [sms] numbers), then re-process")


def thread_ticket(tenant_id: int, sender: str) -> int | None:
    """The sender's SMS ticket of the last THREAD_WINDOW (not deleted), newest first, if any."""
    cutoff = utcnow() - THREAD_WINDOW
    row = (Message.select(Message.ticket).join(Ticket, on=(Message.ticket == Ticket.id))
           .where(Ticket.tenant == tenant_id, Ticket.channel == CHANNEL, Ticket.state != "deleted",
                  Ticket.updated_at >= cutoff, Message.channel == CHANNEL,
                  (Message.sender == sender) | (Message.recipient == sender))
           .order_by(Ticket.updated_at.desc(), Message.id.desc()).first())
    return row.ticket_id if row else None


def body_of(text: str | None, payload: bytes) -> str:
    """The message text; an 8-bit (binary) message is shown as hex, since it has no text."""
    if text is not None:
        return text
    shown = payload[:BINARY_SHOWN].hex(" ")
    more = " …" if len(payload) > BINARY_SHOWN else ""
    return f"(binary SMS, {len(payload)} bytes: {shown}{more})"


def _subject(sender: str, body: str) -> str:
    first = " ".join(body.split())
    cut = first[:SUBJECT_TEXT] + ("…" if len(first) > SUBJECT_TEXT else "")
    return f"SMS from {sender}: {cut}" if cut else f"SMS from {sender}"


class SmsProcessor:
    """Intake processor of the SMS channel (see appliance.intake.pipeline.Processor)."""

    def __init__(self, sink: TicketSink) -> None:
        self.sink = sink
        self._routes: dict[str, tuple[float, tuple[int, int | None, str]]] = {}

    def route(self, number: str) -> tuple[int, int | None, str]:
        """`route`, with hits remembered for ROUTE_CACHE_S (a burst of SMS asks the same question)."""
        now = time.monotonic()
        hit = self._routes.get(number)
        if hit and now - hit[0] < ROUTE_CACHE_S:
            return hit[1]
        found = route(number)  # a miss raises and is not remembered: an address added now counts at once
        self._routes[number] = (now, found)
        return found

    # --- prepare: no database --------------------------------------------------------------------
    def prepare(self, entry: SpoolEntry) -> PreparedSms:
        """Decode the PDU; a bad one is rejected with the codec's reason (TS 23.040 clause in it)."""
        if entry.meta.get("error"):
            raise RejectedInput(f"modem {modem_of(entry)} returned an unreadable PDU: {entry.meta['error']}")
        if entry.meta.get("via") == inbound_http.VIA:
            return PreparedSms("http", inbound_http.from_entry(entry), hashlib.sha256(entry.raw).hexdigest())
        if entry.meta.get("via") == inbound_mail.VIA:
            return PreparedSms("mail", inbound_mail.from_entry(entry), hashlib.sha256(entry.raw).hexdigest())
        try:
            pdu = decode_pdu(entry.raw)
        except PduError as exc:
            raise RejectedInput(f"undecodable SMS PDU from modem {modem_of(entry)}: {exc}") from None
        digest = hashlib.sha256(entry.raw).hexdigest()
        if isinstance(pdu, StatusReportPdu):
            return PreparedSms("report", pdu, digest)
        if isinstance(pdu, SubmitPdu):
            return PreparedSms("ignore", pdu, digest)
        return PreparedSms("deliver", pdu, digest)

    # --- commit: inside the transaction ------------------------------------------------------------
    def commit(self, entry: SpoolEntry, prepared: PreparedSms) -> Any:
        """Deliver a whole message, hold a part, or apply a status report stored on the SIM."""
        pdu = prepared.pdu
        if isinstance(pdu, inbound_mail.MailSms):
            return self._deliver_mail(pdu)
        if isinstance(pdu, inbound_http.InboundSms):  # a gateway's SMS: whole already, numbers already E.164
            tenant_id, mailbox_id, _ = self.route(pdu.to)
            return self._deliver(tenant_id, mailbox_id, pdu.sender, pdu.to, pdu.text, pdu.key,
                                 f"http:{pdu.gateway_id}"[:200], 1)
        if isinstance(pdu, StatusReportPdu):
            return outbox.apply_report(modem_of(entry), pdu.reference, pdu.status, str(pdu.recipient))
        if not isinstance(pdu, DeliverPdu):
            return Skipped("an outgoing message stored on the SIM, not a received one")
        number = str(entry.meta.get("number", ""))
        tenant_id, mailbox_id, region = self.route(number)
        sender = sender_text(pdu, region)
        concat = pdu.concat
        if concat is None or concat.total <= 1:
            whole = Reassembler().add(pdu, 0.0)
            assert whole is not None  # a single part is complete by definition
            return self._deliver(tenant_id, mailbox_id, sender, number, body_of(whole.text, whole.payload),
                                 content_key(CHANNEL, entry.raw), f"{modem_of(entry)}:{prepared.digest[:16]}", 1)
        set_key = (f"sms:{pdu.sender}:{concat.reference}:{concat.total}:{'16' if concat.wide else '8'}")[:KEY_MAX]
        if SmsPart.select().where(SmsPart.digest == prepared.digest).exists():
            return PartHeld(tenant_id, set_key, 0, concat.total, duplicate=True)
        received = datetime.datetime.fromtimestamp(entry.received_at, datetime.timezone.utc).replace(tzinfo=None)
        SmsPart.create(tenant=tenant_id, set_key=set_key, sequence=concat.sequence, total=concat.total,
                       digest=prepared.digest, raw=entry.raw, modem=modem_of(entry), number=number,
                       received_at=received)
        parts = _held_parts(tenant_id, set_key)
        have = len({p.sequence for p in parts})
        if have < concat.total:
            return PartHeld(tenant_id, set_key, have, concat.total)
        return self._join(tenant_id, mailbox_id, sender, number, parts)

    def _deliver_mail(self, sms: inbound_mail.MailSms) -> SmsDelivered:
        # The account as it is now: a mail quarantined for its sender is re-processed with the fixed regex.
        account = MailAccount.get_or_none(MailAccount.id == sms.account_id)
        number, regex = (account.sms_number or sms.to, account.sms_sender_regex) if account else (sms.to, sms.regex)
        tenant_id, mailbox_id, region = self.route(number)
        if tenant_id != sms.tenant_id:  # an account may feed only its own tenant's numbers
            raise RejectedInput(f"the SMS-gateway account's service number {number} belongs to another tenant; "
                                "set one of this tenant's SMS numbers on the account, then re-process")
        sender = inbound_mail.sender_number(inbound_mail.find_sender(sms.subject, sms.from_header, regex), region)
        return self._deliver(tenant_id, mailbox_id, sender, number, sms.text, sms.key,
                             f"mail:{sms.gateway_id}"[:200], 1)

    def _join(self, tenant_id: int, mailbox_id: int | None, sender: str, number: str,
              parts: list[SmsPart]) -> SmsDelivered:
        reassembler = Reassembler()
        whole = None
        for part in parts:
            pdu = decode_pdu(bytes(part.raw))
            assert isinstance(pdu, DeliverPdu)
            whole = reassembler.add(pdu, 0.0) or whole
        assert whole is not None
        first = whole.parts[0]
        key = f"sms:{sender}:{first.timestamp.isoformat()}:{whole.reference}:{len(whole.parts)}"[:KEY_MAX]
        result = self._deliver(tenant_id, mailbox_id, sender, number, body_of(whole.text, whole.payload), key,
                               f"{parts[0].modem}:{parts[0].set_key}", len(whole.parts))
        # Every held row of the set, repeats of a part included, so none is left behind to expire alone.
        SmsPart.update(state="joined", message=result.message_id).where(
            SmsPart.tenant == tenant_id, SmsPart.set_key == parts[0].set_key, SmsPart.state == "held").execute()
        return result

    def _deliver(self, tenant_id: int, mailbox_id: int | None, sender: str, number: str, body: str, key: str,
                 source_ref: str, parts: int, incomplete: bool = False) -> SmsDelivered:
        delivery: Delivery = self.sink.deliver(InboundMessage(
            tenant_id=tenant_id, channel=CHANNEL, idempotency_key=key, source_ref=source_ref, sender=sender,
            recipient=number, subject=_subject(sender, body), body=body, mailbox_id=mailbox_id,
            ticket_id=thread_ticket(tenant_id, sender)))
        return SmsDelivered(tenant_id, delivery.ticket_id, delivery.message_id, delivery.created_ticket,
                            delivery.duplicate, parts, incomplete)

    # --- parts that never completed -----------------------------------------------------------------
    def expire(self, older_than: datetime.datetime) -> list[SmsDelivered]:
        """Deliver the parts of sets still incomplete since `older_than`, marked as incomplete (in a transaction).

        TS 23.040 sets no time limit for the rest of a message; after ours, a person reads what came
        rather than nothing, with the missing part numbers named.
        """
        keys = {(p.tenant_id, p.set_key) for p in SmsPart.select(SmsPart.tenant, SmsPart.set_key)
                .where(SmsPart.state == "held", SmsPart.received_at < older_than)}
        out = []
        for tenant_id, set_key in sorted(keys):
            parts = _held_parts(tenant_id, set_key)
            if not parts:
                continue
            out.append(self._deliver_incomplete(tenant_id, set_key, parts))
        return out

    def _deliver_incomplete(self, tenant_id: int, set_key: str, parts: list[SmsPart]) -> SmsDelivered:
        pdus = []
        for part in parts:
            pdu = decode_pdu(bytes(part.raw))
            if isinstance(pdu, DeliverPdu):
                pdus.append(pdu)
        total = parts[0].total
        have = {p.sequence for p in parts}
        missing = [str(i) for i in range(1, total + 1) if i not in have]
        text = "".join(p.text or "" for p in pdus) if all(p.text is not None for p in pdus) else None
        body = body_of(text, b"".join(p.payload for p in pdus))
        body += f"\n\n[incomplete SMS: part(s) {', '.join(missing)} of {total} never arrived]"
        try:
            tenant_now, mailbox_id, region = route(parts[0].number)
        except RejectedInput:
            tenant_now, mailbox_id, region = tenant_id, None, Tenant.get_by_id(tenant_id).region or "DE"
        sender = sender_text(pdus[0], region) if pdus else set_key
        key = ("sms-incomplete:" + hashlib.sha256("".join(sorted(p.digest for p in parts)).encode()).hexdigest())
        result = self._deliver(tenant_now, mailbox_id, sender, parts[0].number, body, key,
                               f"{parts[0].modem}:{set_key}", len(parts), incomplete=True)
        SmsPart.update(state="expired", message=result.message_id).where(
            SmsPart.tenant == tenant_id, SmsPart.set_key == set_key, SmsPart.state == "held").execute()
        return result


def _held_parts(tenant_id: int, set_key: str) -> list[SmsPart]:
    """The held parts of one set, one per sequence number (a network's repeat of a part is dropped)."""
    seen: dict[int, SmsPart] = {}
    for part in (SmsPart.select().where(SmsPart.tenant == tenant_id, SmsPart.set_key == set_key,
                                        SmsPart.state == "held").order_by(SmsPart.sequence, SmsPart.id)):
        seen.setdefault(part.sequence, part)
    return [seen[s] for s in sorted(seen)]


def pending_parts() -> int:
    """Parts waiting for the rest of their message."""
    return SmsPart.select().where(SmsPart.state == "held").count()
