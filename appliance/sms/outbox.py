"""The SMS outbox: a row first, then the modem with retries and back-off, then the status reports
(DESIGN.md "Outbound is the mirror"). Every function here runs inside the caller's transaction.

Replies come from two places: `POST /api/v1/sms` writes its row at once; a message an agent adds to a
ticket with channel `sms`, direction `out` (the domain API) is found by `scan_replies` and gets its row
then, so the domain core needs no hook into this channel.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import peewee
from peewee import JOIN, IntegrityError, fn

from appliance.domain.identifiers import normalise_phone
from appliance.models import Customer, CustomerIdentifier, Message, ServiceAddress, Tenant, Ticket, database_proxy
from appliance.models.auth import utcnow
from appliance.sms.models import SmsOutbox, SmsSentPart

BACKOFF_FIRST_S = 10.0
BACKOFF_FACTOR = 2.0
BACKOFF_MAX_S = 1800.0
BATCH = 20
REPLY_WINDOW = datetime.timedelta(days=2)   # older outgoing messages (imports, history) are never sent
SCAN_OVERLAP = 1000                         # ids re-checked each scan: transactions commit out of id order
REPORT_WINDOW = datetime.timedelta(days=7)  # a status report later than this cannot be matched safely
NUMBER_MAX = 32
STATES = ("queued", "sent", "delivered", "failed", "undeliverable")

# TS 23.040 §9.2.3.15 TP-Status, the values a person may see; ranges name the rest.
STATUS_TEXT = {0x00: "received by the recipient", 0x01: "forwarded, delivery not confirmed",
               0x02: "replaced by the service centre", 0x20: "congestion (still trying)",
               0x21: "recipient busy (still trying)", 0x22: "no response from recipient (still trying)",
               0x23: "service rejected (still trying)", 0x40: "remote procedure error",
               0x41: "incompatible destination", 0x42: "connection rejected by recipient",
               0x43: "not obtainable", 0x45: "no interworking available", 0x46: "validity period expired",
               0x47: "deleted by the sender", 0x48: "deleted by the service centre",
               0x49: "message does not exist", 0x60: "congestion (given up)", 0x61: "recipient busy (given up)",
               0x62: "no response from recipient (given up)", 0x63: "service rejected (given up)"}


def status_text(status: int | None) -> str:
    """A person's reading of TP-Status."""
    if status is None:
        return "no report yet"
    if status in STATUS_TEXT:
        return STATUS_TEXT[status]
    if status < 0x20:
        return "delivered"
    if status < 0x40:
        return "temporary error, the service centre is still trying"
    if status < 0x60:
        return "permanent error"
    return "temporary error, the service centre gave up"


@dataclass(frozen=True)
class ReportSeen:
    """What a status report changed: the outbox row (None if it matched nothing) and its state after."""

    outbox_id: int | None
    state: str
    status: int


def normalise_number(raw: str, region: str) -> str:
    """E.164 of a recipient; ValueError when it is not a phone number."""
    return normalise_phone(raw, region)


def enqueue(tenant_id: int, to_number: str, text: str, *, ticket_id: int | None = None,
            message_id: int | None = None, kind: str = "notification", from_number: str = "",
            idempotency_key: str | None = None) -> SmsOutbox:
    """Queue an SMS; `to_number` must already be E.164 (see `normalise_number`)."""
    return SmsOutbox.create(tenant=tenant_id, ticket=ticket_id, message=message_id, kind=kind,
                            to_number=to_number[:NUMBER_MAX], from_number=from_number[:NUMBER_MAX], text=text,
                            idempotency_key=idempotency_key)


def _last_inbound(ticket_id: int) -> Message | None:
    return (Message.select().where(Message.ticket == ticket_id, Message.channel == "sms", Message.direction == "in")
            .order_by(Message.id.desc()).first())


def reply_route(msg: Message) -> tuple[str, str, str]:
    """(to, from, error) for an agent's outgoing SMS message: the number typed, else the ticket's SMS
    sender, else the customer's phone; from the service number the ticket's SMS came in on."""
    region = Tenant.get_by_id(msg.tenant_id).region or "DE"
    last_in = _last_inbound(msg.ticket_id)
    candidates = [msg.recipient, last_in.sender if last_in else ""]
    ticket = Ticket.get_by_id(msg.ticket_id)
    if ticket.customer_id:
        phone = (CustomerIdentifier.select(CustomerIdentifier.value).join(Customer)
                 .where(CustomerIdentifier.customer == ticket.customer_id, CustomerIdentifier.kind == "phone")
                 .order_by(CustomerIdentifier.id).first())
        candidates.append(phone.value if phone else "")
    to = ""
    for raw in candidates:
        try:
            to = normalise_number(raw, region) if raw else ""
        except ValueError:
            continue
        if to:
            break
    sender = last_in.recipient if last_in else ""
    if not sender and ticket.mailbox_id:
        row = (ServiceAddress.select(ServiceAddress.value)
               .where(ServiceAddress.mailbox == ticket.mailbox_id, ServiceAddress.kind == "sms")
               .order_by(ServiceAddress.id).first())
        sender = row.value if row else ""
    error = "" if to else ("no phone number to send to: the message names none, the ticket has no SMS "
                           "from a number, and its customer has no phone number")
    return to, sender, error


def scan_replies(after_id: int, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Queue recent outgoing SMS messages that have no outbox row yet; returns (queued, next after_id)."""
    now = now or utcnow()
    rows = list(Message.select().join(SmsOutbox, JOIN.LEFT_OUTER, on=(SmsOutbox.message == Message.id))
                .where(Message.id > after_id, Message.channel == "sms", Message.direction == "out",
                       Message.created_at >= now - REPLY_WINDOW, SmsOutbox.id.is_null())
                .order_by(Message.id).limit(500))
    for msg in rows:
        to, sender, error = reply_route(msg)
        try:
            with database_proxy.atomic():  # a savepoint: another node may have queued it meanwhile
                enqueue(msg.tenant_id, to, msg.body, ticket_id=msg.ticket_id, message_id=msg.id, kind="reply",
                        from_number=sender)
        except IntegrityError:
            continue
        if error:
            SmsOutbox.update(state="failed", last_error=error).where(SmsOutbox.message == msg.id).execute()
    top = Message.select(fn.MAX(Message.id)).scalar() or 0
    if len(rows) == 500:
        return len(rows), rows[-1].id  # more to do: continue right after the last one
    return len(rows), max(0, top - SCAN_OVERLAP)


def due(now: datetime.datetime | None = None, limit: int = BATCH) -> list[SmsOutbox]:
    """Queued rows whose time has come, oldest first."""
    now = now or utcnow()
    return list(SmsOutbox.select().where(SmsOutbox.state == "queued", SmsOutbox.next_attempt_at <= now)
                .order_by(SmsOutbox.next_attempt_at, SmsOutbox.id).limit(limit))


def backoff_s(attempts: int) -> float:
    """Seconds before the next try after `attempts` failures."""
    return min(BACKOFF_FIRST_S * BACKOFF_FACTOR ** max(0, attempts - 1), BACKOFF_MAX_S)


def mark_sent(row_id: int, modem: str, references: list[int], reports_requested: bool) -> None:
    """The network accepted every part; remember each TP-MR to match the status reports."""
    now = utcnow()
    SmsOutbox.update(state="sent", sent_at=now, modem=modem, parts=len(references), last_error="",
                     attempts=SmsOutbox.attempts + 1).where(SmsOutbox.id == row_id).execute()
    for part, reference in enumerate(references, start=1):
        SmsSentPart.create(outbox=row_id, modem=modem, reference=reference, part=part, sent_at=now,
                           final=not reports_requested)


def mark_sent_gateway(row_id: int, gateway: str, gateway_id: str | None = None) -> None:
    """An HTTP gateway took the SMS: sent, with the gateway's message id its delivery report will name."""
    SmsOutbox.update(state="sent", sent_at=utcnow(), modem=gateway, parts=1, last_error="", gateway_id=gateway_id,
                     attempts=SmsOutbox.attempts + 1).where(SmsOutbox.id == row_id).execute()


GATEWAY_STATES = {"delivered": "delivered", "failed": "undeliverable", "pending": "sent"}


def apply_gateway_report(tenant_id: int | None, gateway_id: str, report: str, detail: str = "") -> SmsOutbox | None:
    """A gateway's delivery report (delivered, failed, pending) on the row it sent under `gateway_id`, inside
    the tenant (None: any); the row as it is after, or None when no row has that id. Like a modem's report,
    a final state is not undone by a late 'pending'."""
    q = SmsOutbox.select().where(SmsOutbox.gateway_id == gateway_id)
    if tenant_id is not None:
        q = q.where(SmsOutbox.tenant == tenant_id)
    row = q.order_by(SmsOutbox.id.desc()).first()
    if row is None:
        return None
    state = GATEWAY_STATES[report]
    if report == "pending" and row.state in ("delivered", "undeliverable"):
        state = row.state
    error = detail[:4000] if report == "failed" else row.last_error
    SmsOutbox.update(state=state, status_at=utcnow(), last_error=error).where(SmsOutbox.id == row.id).execute()
    return SmsOutbox.get_by_id(row.id)


def mark_failed(row_id: int, error: str, permanent: bool, max_attempts: int) -> str:
    """A failed try: back off, or give up (the text cannot be sent, or too many tries); returns the state."""
    row = SmsOutbox.get_by_id(row_id)
    attempts = row.attempts + 1
    state = "failed" if permanent or attempts >= max_attempts else "queued"
    SmsOutbox.update(attempts=attempts, last_error=error[:4000], state=state,
                     next_attempt_at=utcnow() + datetime.timedelta(seconds=backoff_s(attempts))
                     ).where(SmsOutbox.id == row_id).execute()
    return state


def retry(row_id: int) -> None:
    """An operator's retry of a failed SMS."""
    SmsOutbox.update(state="queued", next_attempt_at=utcnow()).where(SmsOutbox.id == row_id).execute()


def _tag_id(tag: str | None) -> int | None:
    if tag and tag.startswith("sms-outbox-") and tag[11:].isdigit():
        return int(tag[11:])
    return None


def apply_report(modem: str, reference: int, status: int, recipient: str, tag: str | None = None) -> ReportSeen:
    """Record a status report on the part it answers (by TP-MR on that modem, §9.2.3.6) and update the row."""
    now = utcnow()
    q = (SmsSentPart.select().join(SmsOutbox)
         .where(SmsSentPart.modem == modem, SmsSentPart.reference == reference,
                SmsSentPart.final == False, SmsSentPart.sent_at >= now - REPORT_WINDOW))  # noqa: E712
    tagged = _tag_id(tag)
    if tagged is not None:
        q = q.where(SmsSentPart.outbox == tagged)
    # TP-MR wraps at 256: among candidates, the one sent to this recipient most recently.
    candidates = list(q.order_by(SmsSentPart.id.desc()).limit(20))
    part = next((p for p in candidates if p.outbox.to_number == recipient), candidates[0] if candidates else None)
    if part is None:
        return ReportSeen(None, "unmatched", status)
    if not isinstance(database_proxy.obj, peewee.SqliteDatabase):
        # Reports for the parts of one message arrive together: the row lock orders them, so the last
        # one reads every other part's status (READ COMMITTED re-reads per statement).
        SmsOutbox.select(SmsOutbox.id).where(SmsOutbox.id == part.outbox_id).for_update().first()
    final = not 0x20 <= status < 0x40
    SmsSentPart.update(status=status, final=final, reported_at=now).where(SmsSentPart.id == part.id).execute()
    parts = list(SmsSentPart.select().where(SmsSentPart.outbox == part.outbox_id))
    if any(p.final and p.status is not None and p.status >= 0x20 for p in parts):
        state = "undeliverable"
    elif all(p.final and p.status is not None for p in parts):
        state = "delivered"
    else:
        state = "sent"
    SmsOutbox.update(state=state, status_at=now).where(SmsOutbox.id == part.outbox_id).execute()
    return ReportSeen(part.outbox_id, state, status)


def _at(v: datetime.datetime | None) -> str | None:
    return v.isoformat() + "Z" if v else None


def row_dict(row: SmsOutbox) -> dict[str, Any]:
    """An outbox row as the API and the console show it, with each part's delivery status."""
    parts = [{"part": p.part, "modem": p.modem, "reference": p.reference, "status": p.status,
              "status_text": status_text(p.status), "final": p.final, "reported_at": _at(p.reported_at)}
             for p in SmsSentPart.select().where(SmsSentPart.outbox == row.id).order_by(SmsSentPart.part)]
    return {"id": row.id, "tenant_id": row.tenant_id, "ticket_id": row.ticket_id, "message_id": row.message_id,
            "kind": row.kind, "to": row.to_number, "from": row.from_number, "text": row.text, "state": row.state,
            "attempts": row.attempts, "next_attempt_at": _at(row.next_attempt_at), "last_error": row.last_error,
            "modem": row.modem, "parts": parts, "created_at": _at(row.created_at), "sent_at": _at(row.sent_at),
            "status_at": _at(row.status_at), "idempotency_key": row.idempotency_key, "gateway_id": row.gateway_id}


def show(row_id: int) -> dict[str, Any]:
    """One row as `row_dict` shows it."""
    return row_dict(SmsOutbox.get_by_id(row_id))


Page = tuple[list[dict[str, Any]], int | None]


def page(tenant_id: int | None, *, ticket_id: int | None = None, message_id: int | None = None,
         state: str | None = None, limit: int = 50, before: int | None = None) -> Page:
    """Newest first, keyset-paged by id, inside one tenant (None: the appliance admin sees all)."""
    q = SmsOutbox.select().order_by(SmsOutbox.id.desc()).limit(limit + 1)
    if tenant_id is not None:
        q = q.where(SmsOutbox.tenant == tenant_id)
    if ticket_id is not None:
        q = q.where(SmsOutbox.ticket == ticket_id)
    if message_id is not None:
        q = q.where(SmsOutbox.message == message_id)
    if state:
        q = q.where(SmsOutbox.state == state)
    if before is not None:
        q = q.where(SmsOutbox.id < before)
    rows = list(q)
    more = len(rows) > limit
    rows = rows[:limit]
    return [row_dict(r) for r in rows], (rows[-1].id if more else None)


def counts() -> dict[str, int]:
    """Rows per state."""
    q = SmsOutbox.select(SmsOutbox.state, fn.COUNT(SmsOutbox.id).alias("n")).group_by(SmsOutbox.state)
    return {r.state: r.n for r in q}
