"""Threading: which ticket a mail belongs to, by In-Reply-To/References or a ticket tag in the subject."""
from __future__ import annotations

import hashlib
import re

from appliance.mail.parse import ParsedMail

# "[Ticket#123]" is what our replies carry; a customer's client keeps it in "Re: …" (RFC 5322 §3.6.5).
TAG_RE = re.compile(r"\[\s*ticket\s*#\s*(\d{1,12})\s*\]", re.IGNORECASE)
MAX_REFERENCES = 50  # the newest ones; a References header may carry hundreds


def mid_hash(message_id: str) -> str:
    """Hash of a normalised Message-ID, the indexed lookup key of a mail record."""
    return hashlib.sha256(message_id.strip().strip("<>").lower().encode("utf-8", "replace")).hexdigest()


def ticket_tag(ticket_id: int) -> str:
    """The subject tag our outgoing mails carry."""
    return f"[Ticket#{ticket_id}]"


def tagged_subject(ticket_id: int, subject: str) -> str:
    """A subject carrying the ticket tag exactly once."""
    clean = TAG_RE.sub("", subject).strip()
    return f"{ticket_tag(ticket_id)} {clean}".strip()


def ticket_number(subject: str) -> int | None:
    """The ticket number in a subject tag, if any (the last one: replies prepend, forwards append)."""
    found = TAG_RE.findall(subject or "")
    return int(found[-1]) if found else None


def reference_hashes(mail: ParsedMail) -> list[str]:
    """Hashes of the ids this mail answers, most specific first: In-Reply-To, then References newest-first."""
    ids = list(mail.in_reply_to) + list(reversed(mail.references[-MAX_REFERENCES:]))
    seen, out = set(), []
    for mid in ids:
        h = mid_hash(mid)
        if h not in seen:
            seen.add(h)
            out.append(h)
    return out


def message_ids_of(msg) -> str:
    """The bare Message-ID of a composed message (without angle brackets)."""
    return str(msg.get("Message-ID", "")).strip().strip("<>")
