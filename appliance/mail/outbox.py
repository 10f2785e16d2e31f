"""The outbox: a row first, then send with retries and back-off, then mark sent (DESIGN.md, mirror of intake)."""
from __future__ import annotations

import datetime
import json
from email.message import EmailMessage
from email import policy
from typing import Any

from appliance.mail import conversation, credentials, smime
from appliance.mail.models import MailOutbox, MailRecord, SmimeCredential
from appliance.models import Message
from appliance.models.auth import utcnow
from appliance.security.secrets import SecretError

BACKOFF_FIRST_S = 30.0
BACKOFF_FACTOR = 2.0
BACKOFF_MAX_S = 6 * 3600.0
MAX_ATTEMPTS = 12          # ~ a day and a half of trying before a person must look
BATCH = 20


def enqueue(tenant_id: int, ticket_id: int | None, msg: EmailMessage, mail_from: str, rcpt_to: list[str],
            kind: str = "reply", user_id: int | None = None, settings: dict[str, Any] | None = None,
            box: Any = None) -> MailOutbox:
    """Queue a mail (inside a transaction); with a ticket it is also recorded as an outgoing message.

    `settings` are the sending mailbox's (inherited) settings; they decide S/MIME signing and encryption.
    `box` (appliance.security.secrets.SecretBox) opens the mailbox's sealed signing key.
    """
    plain = msg
    smime_status = ""
    if settings and (settings.get("smime_sign") or settings.get("smime_encrypt")):
        msg, smime_status = protect(tenant_id, msg, mail_from, rcpt_to, settings, box)
    raw = msg.as_bytes(policy=policy.SMTP)
    row = MailOutbox.create(tenant=tenant_id, ticket=ticket_id, kind=kind, mail_from=mail_from,
                            rcpt_to=json.dumps(rcpt_to), raw=raw)
    if ticket_id is not None:
        mid = conversation.message_ids_of(plain)
        message = Message.create(tenant=tenant_id, ticket=ticket_id, channel="mail", direction="out",
                                 kind="system" if kind in ("auto_reply", "interim") else "reply",
                                 sender=mail_from, recipient=", ".join(rcpt_to)[:254],
                                 subject=str(msg.get("Subject", ""))[:300],
                                 body=_text_of(plain), source_ref=mid[:300], created_by=user_id)
        MailRecord.create(tenant=tenant_id, message=message.id, ticket=ticket_id, direction="out",
                          mid_hash=conversation.mid_hash(mid), header_id=mid[:300], raw=raw, smime=smime_status[:200])
    return row


def protect(tenant_id: int, msg: EmailMessage, mail_from: str, rcpt_to: list[str],
            settings: dict[str, Any], box: Any = None) -> tuple[EmailMessage, str]:
    """Sign and/or encrypt per the mailbox settings `smime_sign` / `smime_encrypt` (C4); returns (mail, status).

    Encryption needs a certificate for every recipient; without one the mail goes signed only and the
    status says so, rather than not at all.
    """
    status = []
    creds = list(SmimeCredential.select().where(SmimeCredential.tenant == tenant_id))
    if settings.get("smime_sign"):
        own = next((c for c in reversed(creds) if c.email == mail_from.lower() and (c.key_sealed or c.key_pem)), None)
        try:
            key = credentials.key_of(box, own) if own is not None else ""
        except SecretError as exc:
            key, status = "", status + [f"not signed: the key cannot be opened ({exc})"]
        if own is None:
            status.append(f"not signed: no S/MIME key for {mail_from}")
        elif key:
            msg = smime.sign(msg, own.cert_pem.encode(), key.encode())
            status.append("signed")
    if settings.get("smime_encrypt"):
        certs = {c.email: c.cert_pem.encode() for c in creds}
        missing = [r for r in rcpt_to if r.lower() not in certs]
        if missing:
            status.append("not encrypted: no certificate for " + ", ".join(missing))
        else:
            # Our own certificate too, so the sent copy stays readable here.
            mine = [certs[mail_from.lower()]] if mail_from.lower() in certs else []
            msg = smime.encrypt(msg, [certs[r.lower()] for r in rcpt_to] + mine)
            status.append("encrypted")
    return msg, ", ".join(status)


def _text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def due(now: datetime.datetime | None = None, limit: int = BATCH) -> list[MailOutbox]:
    """Queued rows whose time has come, oldest first."""
    now = now or utcnow()
    return list(MailOutbox.select().where(MailOutbox.state == "queued", MailOutbox.next_attempt_at <= now)
                .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit))


def backoff_s(attempts: int) -> float:
    """Seconds before the next try after `attempts` failures."""
    return min(BACKOFF_FIRST_S * BACKOFF_FACTOR ** max(0, attempts - 1), BACKOFF_MAX_S)


def mark_sent(row_id: int) -> None:
    """The server accepted the mail."""
    MailOutbox.update(state="sent", sent_at=utcnow(), last_error="",
                      attempts=MailOutbox.attempts + 1).where(MailOutbox.id == row_id).execute()


def mark_failed(row_id: int, error: str, permanent: bool) -> None:
    """A failed try: back off, or give up (permanent 5xx or too many tries) for a person to see."""
    row = MailOutbox.get_by_id(row_id)
    attempts = row.attempts + 1
    give_up = permanent or attempts >= MAX_ATTEMPTS
    MailOutbox.update(attempts=attempts, last_error=error[:4000], state="failed" if give_up else "queued",
                      next_attempt_at=utcnow() + datetime.timedelta(seconds=backoff_s(attempts))
                      ).where(MailOutbox.id == row_id).execute()


def retry(row_id: int) -> None:
    """An operator's retry of a failed mail."""
    MailOutbox.update(state="queued", next_attempt_at=utcnow()).where(MailOutbox.id == row_id).execute()


def counts() -> dict[str, Any]:
    """Rows per state."""
    from peewee import fn
    q = MailOutbox.select(MailOutbox.state, fn.COUNT(MailOutbox.id).alias("n")).group_by(MailOutbox.state)
    return {r.state: r.n for r in q}
