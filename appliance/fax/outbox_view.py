"""What the desk shows of one outgoing fax: the same plain data over HTTP and in `fax.status` pushes."""
from __future__ import annotations

import datetime
import json
from typing import Any

from appliance.bus import Event, EventKind
from appliance.fax.models import FaxOutbox


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def outbox_view(job: FaxOutbox) -> dict[str, Any]:
    """One outbox row as the desk shows it."""
    report = json.loads(job.report or "{}")
    return {"id": job.id, "number": job.number, "state": job.state, "attempts": job.attempts,
            "last_error": job.last_error, "next_at": _iso(job.next_at), "created_at": _iso(job.created_at),
            "sent_at": _iso(job.sent_at), "pages": report.get("pages", []),
            "pages_confirmed": report.get("pages_confirmed"), "report_url": f"/desk/faxes/{job.id}/report"}


def status_event(job: FaxOutbox, progress: dict[str, Any] | None = None) -> Event | None:
    """The `fax.status` event of a ticket's fax (None for a fax sent from no ticket: no desk shows it)."""
    if job.ticket_id is None or job.tenant_id is None:
        return None
    view = {**outbox_view(job), "progress": dict(progress) if progress and job.state == "sending" else None}
    return Event(EventKind.FAX_STATUS, {"ticket_id": job.ticket_id, "fax": view}, tenant_id=job.tenant_id)
