"""SMS out by mail (C10): an e-mail-to-SMS gateway address per number ({number}@gateway), handed to the
mail outbox in the same transaction that marks the SMS row sent, so the SMS is neither lost nor sent twice;
the mail outbox then does the relaying, retries and back-off of any outgoing mail.
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from appliance.mail import outbox as mail_outbox
from appliance.sms.models import SmsOutbox
from appliance.models.auth import utcnow

NAME = "mail-gateway"          # what the outbox row shows as the device that sent it
PLACEHOLDERS = ("{number}", "{e164}")


def valid_template(template: str) -> bool:
    """An address template names the number and has one @ with a domain after it."""
    local, at, domain = template.rpartition("@")
    return bool(at and local and domain and "." in domain and any(p in local for p in PLACEHOLDERS))


def address(template: str, to: str) -> str:
    """The gateway address of an E.164 number: {number} without the +, {e164} with it."""
    return template.replace("{e164}", to).replace("{number}", to.lstrip("+"))


def build(mail_from: str, rcpt: str, text: str) -> EmailMessage:
    """The mail a gateway turns into the SMS: plain text, no subject (many gateways would prepend it)."""
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = rcpt
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or None)
    msg.set_content(text, charset="utf-8")
    return msg


def hand_over(row_id: int, template: str, mail_from: str) -> str:
    """Queue the row's SMS as a mail and mark the row sent (inside the caller's transaction); the address."""
    row = SmsOutbox.get_by_id(row_id)
    rcpt = address(template, row.to_number)
    mail_outbox.enqueue(row.tenant_id, None, build(mail_from, rcpt, row.text), mail_from, [rcpt], kind="sms")
    SmsOutbox.update(state="sent", sent_at=utcnow(), modem=NAME, parts=1, last_error="",
                     attempts=SmsOutbox.attempts + 1).where(SmsOutbox.id == row_id).execute()
    return rcpt
