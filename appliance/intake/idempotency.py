"""Idempotency keys: the same input replayed from the spool or fetched twice maps to the same key."""
from __future__ import annotations

import hashlib
import re

KEY_MAX = 200  # Message.idempotency_key is a CharField(200)
_SPACE = re.compile(r"\s+")


def digest(raw: bytes) -> str:
    """SHA-256 hex of the raw input."""
    return hashlib.sha256(raw).hexdigest()


def mail_key(message_id: str | None, raw: bytes) -> str:
    """Key of a mail: Message-ID plus the content digest.

    The Message-ID alone is not enough: senders reuse them (broken mailers, resent drafts) and a
    different message under a known id must not vanish; the digest alone would merge a message
    that arrives twice with different trace headers, so both are used.
    """
    mid = _SPACE.sub("", (message_id or "")).strip("<>").lower()
    mid_part = hashlib.sha256(mid.encode("utf-8", "surrogateescape")).hexdigest()[:32] if mid else "-"
    return f"mail:{mid_part}:{digest(raw)}"[:KEY_MAX]


def content_key(channel: str, raw: bytes) -> str:
    """Key for channels whose input has no identifier of its own (a PDU, a fax page set, a scan)."""
    return f"{channel}:{digest(raw)}"[:KEY_MAX]
