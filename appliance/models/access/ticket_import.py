"""What a ticket import (G10) takes beyond what creating a ticket does: the `state` and `created_at` of the
export, so an exported ticket imported again is the same case (a finished one stays finished and out of the
work queue) rather than new work dated today."""
from __future__ import annotations

from typing import Any, Mapping

from appliance.domain import workflow
from appliance.domain.schema import Field, Schema
from appliance.models import Ticket
from appliance.models.access.scope import Scope

HISTORY = Schema("ticket_history", (Field("state", choices=tuple(s for s in workflow.STATES if s != "deleted")),
                                    Field("created_at", "datetime")))


def split_history(row: Any) -> tuple[Any, dict[str, Any]]:
    """The row without its history fields, and those fields checked; raises ValidationError naming them."""
    if not isinstance(row, Mapping):
        return row, {}
    given = {k: row[k] for k in ("state", "created_at") if k in row}
    rest = {k: v for k, v in row.items() if k not in given}
    return rest, HISTORY.validate(given)


def apply_history(scope: Scope, ticket_id: int, history: Mapping[str, Any]) -> None:
    """Give the imported ticket its exported state and creation time (closed then, if it was finished)."""
    if not history:
        return
    ticket = scope.get(Ticket, ticket_id)
    changes: dict[str, Any] = {}
    if history.get("created_at") is not None:
        changes["created_at"] = history["created_at"]
    state = history.get("state")
    if state and state != ticket.state:
        changes["state"] = state
        if state in workflow.FINAL_STATES:
            changes["closed_at"] = history.get("created_at") or ticket.updated_at
    if changes:
        Ticket.update(**changes).where(Ticket.id == ticket.id).execute()
