"""Outage (master) tickets as the admin console shows them (D13): the master a ticket is linked to, or the
tickets linked to it and how many of them are still open."""
from __future__ import annotations

from typing import Any

from appliance.domain import workflow
from appliance.domain.permissions import Perm
from appliance.models import Ticket
from appliance.models.access.scope import Scope

MAX_SHOWN = 200


def outage_view(scope: Scope, ticket_id: int) -> dict[str, Any]:
    """{master_id, children (the first MAX_SHOWN), open_children, total_children} of one ticket."""
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    linked = scope.query(Ticket).where(Ticket.master == ticket.id)
    children = [{"id": t.id, "subject": t.subject, "state": t.state}
                for t in linked.order_by(Ticket.id).limit(MAX_SHOWN)]
    return {"master_id": ticket.master_id, "children": children, "total_children": linked.count(),
            "open_children": linked.where(Ticket.state.not_in(workflow.FINAL_STATES)).count()}
