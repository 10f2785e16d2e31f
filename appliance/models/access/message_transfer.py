"""Messages in the import and export (G10): a ticket's contents (mail, SMS, notes …) travel with it. Export
and import are bulk work on a whole tenant, so they need the transfer right besides reading tickets."""
from __future__ import annotations

from typing import Any, Mapping

from appliance.domain.errors import NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models import Message
from appliance.models.access import tickets
from appliance.models.access.resource import to_jsonable
from appliance.models.access.scope import Scope

COLUMNS = ("id", "ticket_id", "channel", "direction", "kind", "sender", "recipient", "subject", "body",
           "source_ref", "idempotency_key", "created_at")
IMPORT_SCHEMA = Schema("message_import", (Field("ticket_id", "id", required=True),) + tickets.MESSAGE_SCHEMA.fields
                       + (Field("created_at", "datetime"),))
BATCH = 1000


def export_messages(scope: Scope, limit: int) -> list[dict[str, Any]]:
    """Every message of the actor's tenant in COLUMNS, oldest first, at most `limit`."""
    scope.require(Perm.TRANSFER)
    scope.require(Perm.TICKETS_READ)
    rows: list[dict[str, Any]] = []
    after = 0
    while len(rows) < limit:
        batch = list(scope.query(Message).where(Message.id > after).order_by(Message.id).limit(BATCH))
        if not batch:
            break
        rows += [{c: to_jsonable(getattr(m, c)) for c in COLUMNS} for m in batch]
        after = batch[-1].id
    return rows[:limit]


def import_message(scope: Scope, row: Any) -> dict[str, Any]:
    """Add one exported message to one of the actor's tickets; a known idempotency key adds nothing."""
    scope.require(Perm.TRANSFER)
    if isinstance(row, Mapping):  # the export writes null for what a message lacks (no idempotency key …)
        row = {k: v for k, v in row.items() if v is not None}
    data = IMPORT_SCHEMA.validate(row)
    ticket_id, created = data.pop("ticket_id"), data.pop("created_at", None)
    try:
        message, new = tickets.add_message(scope, ticket_id, data)
    except NotFound:
        raise ValidationError({"ticket_id": f"unknown ticket {ticket_id}"}) from None
    if new and created is not None:
        Message.update(created_at=created).where(Message.id == message["id"]).execute()
    return {"id": message["id"], "duplicate": not new}
