"""Quarantine: input that cannot be parsed or stored is kept with its source, reason and time.

The raw bytes go to the (encrypted) document store; the row says why. Nothing in here deletes: an
entry is either held or, after a successful re-processing, marked with where it went.
"""
from __future__ import annotations

import datetime
import json
from typing import Any, Protocol

from peewee import fn

from appliance.intake.errors import QuarantineError
from appliance.intake.models import QuarantineEntry
from appliance.models.auth import utcnow

REASON_MAX = 4000
PAGE_MAX = 1000


class QuarantineOwner(Protocol):
    """A channel service that can hand out and re-process its quarantined input."""

    async def quarantine_raw(self, entry_id: int) -> bytes:
        """The raw input of an entry."""
        ...

    async def reprocess_quarantined(self, entry_id: int) -> dict[str, Any]:
        """Run the entry through intake again; returns the entry as `entry_dict` shows it."""
        ...


def hold(store: Any, *, channel: str, source: str, reason: str, raw: bytes, tenant_id: int | None = None,
         meta: dict[str, Any] | None = None, received_at: float | None = None) -> QuarantineEntry:
    """Quarantine raw input (call inside a transaction); the bytes go to the document store first."""
    digest = store.put(raw)
    when = (datetime.datetime.fromtimestamp(received_at, datetime.timezone.utc).replace(tzinfo=None)
            if received_at else utcnow())
    return QuarantineEntry.create(tenant=tenant_id, channel=channel, source=source[:300],
                                  reason=reason[:REASON_MAX], received_at=when, digest=digest, size=len(raw),
                                  meta=json.dumps(meta or {}, default=str))


def entry_dict(e: QuarantineEntry) -> dict[str, Any]:
    """The entry as the API and the admin console show it."""
    return {"id": e.id, "tenant_id": e.tenant_id, "channel": e.channel, "source": e.source, "reason": e.reason,
            "time": e.received_at.isoformat() + "Z", "quarantined_at": e.created_at.isoformat() + "Z",
            "size": e.size, "state": e.state, "attempts": e.attempts, "result": e.result,
            "resolved_at": e.resolved_at.isoformat() + "Z" if e.resolved_at else None}


def page(limit: int = 100, cursor: int | None = None, state: str | None = None,
         tenant_id: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first, keyset-paged by id: (items, next cursor or None)."""
    limit = max(1, min(limit, PAGE_MAX))
    q = QuarantineEntry.select().order_by(QuarantineEntry.id.desc()).limit(limit + 1)
    if cursor is not None:
        q = q.where(QuarantineEntry.id < cursor)
    if state:
        q = q.where(QuarantineEntry.state == state)
    if tenant_id is not None:
        q = q.where(QuarantineEntry.tenant == tenant_id)
    rows = list(q)
    more = len(rows) > limit
    rows = rows[:limit]
    return [entry_dict(e) for e in rows], (rows[-1].id if more else None)


def get(entry_id: int) -> QuarantineEntry:
    """One entry, or QuarantineError."""
    entry = QuarantineEntry.get_or_none(QuarantineEntry.id == entry_id)
    if entry is None:
        raise QuarantineError(f"no quarantine entry {entry_id}")
    return entry


def resolve(entry_id: int, result: str) -> QuarantineEntry:
    """Mark an entry re-processed with where it went."""
    entry = get(entry_id)
    entry.state, entry.result, entry.resolved_at = "reprocessed", result[:300], utcnow()
    entry.attempts += 1
    entry.save()
    return entry


def still_failing(entry_id: int, reason: str) -> QuarantineEntry:
    """Record a failed re-processing attempt; the entry stays held with the new reason."""
    entry = get(entry_id)
    entry.attempts += 1
    entry.reason = reason[:REASON_MAX]
    entry.save()
    return entry


def counts() -> dict[str, int]:
    """Entries per state."""
    q = (QuarantineEntry.select(QuarantineEntry.state, fn.COUNT(QuarantineEntry.id).alias("n"))
         .group_by(QuarantineEntry.state))
    return {row.state: row.n for row in q}
