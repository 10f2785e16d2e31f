"""Delivery status notifications (RFC 3464): which of our mails bounced, to whom, and why. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from appliance.mail.parse import Attachment, ParsedMail, message_ids

_HEADERS = BytesParser(policy=policy.compat32)


@dataclass
class Bounce:
    """What a DSN says about the original mail."""

    original_message_id: str
    recipient: str
    action: str
    status: str


def _fields(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.replace(b"\r\n", b"\n").split(b"\n"):
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if sep and name.strip() and not name[:1].isspace():
            out.setdefault(name.strip().lower(), value.strip())
    return out


def _original_id(attachments: list[Attachment]) -> str:
    for att in attachments:
        if att.mime in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            head = _HEADERS.parsebytes(att.data, headersonly=True)
            ids = message_ids(str(head.get("Message-ID", "")))
            if ids:
                return ids[0]
    return ""


def parse_bounce(mail: ParsedMail) -> Bounce | None:
    """A Bounce when the mail is a DSN (multipart/report; report-type=delivery-status), else None."""
    if mail.content_type != "multipart/report":
        return None
    report = next((a for a in mail.attachments if a.mime == "message/delivery-status"), None)
    if report is None:
        return None
    # RFC 3464 §2.1: per-message fields, a blank line, then per-recipient field groups.
    blocks = [b for b in report.data.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
    per_recipient = _fields(blocks[1]) if len(blocks) > 1 else _fields(blocks[0]) if blocks else {}
    recipient = per_recipient.get("final-recipient", "").split(";")[-1].strip().lower()
    original = _original_id(mail.attachments) or "".join(mail.in_reply_to[:1])
    return Bounce(original, recipient, per_recipient.get("action", "").lower(), per_recipient.get("status", ""))
