"""The audit trail: who changed what, when, from where."""
from __future__ import annotations

import json
from typing import Any, Mapping

from aiohttp import web

from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.models import AuditEntry
from appliance.models.access import Page, Scope
from appliance.models.access.resource import to_jsonable
from appliance.webui.api.base import api, respond, run


def list_audit(scope: Scope, params: Mapping[str, str]) -> Page:
    """Entries of the actor's tenant, optionally for one object."""
    scope.require(Perm.AUDIT)
    q = scope.query(AuditEntry)
    if params.get("object_type"):
        q = q.where(AuditEntry.object_type == params["object_type"][:32])
    object_id = params.get("object_id", "")
    if object_id:
        if not object_id.isdigit():
            raise ValidationError({"object_id": "must be an integer"})
        q = q.where(AuditEntry.object_id == int(object_id))
    page = scope.page(q, AuditEntry, params.get("limit"), params.get("cursor"))
    page.items = [_json(e) for e in page.items]
    return page


def _json(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "tenant_id": e.tenant_id, "user_id": e.user_id, "username": e.username,
            "at": to_jsonable(e.at), "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
            "detail": json.loads(e.detail or "{}"), "remote": e.remote}


@api("GET", "/audit", "The audit trail of your tenant", "audit",
     query=("limit", "cursor", "object_type", "object_id"), paged=True)
async def audit(request: web.Request) -> web.Response:
    """List."""
    return respond(await run(request, list_audit, dict(request.query)))
