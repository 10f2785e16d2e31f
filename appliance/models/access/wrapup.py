"""Wrap-up codes (issue 6): configured per tenant or per queue (CRUD for the API and the admin console),
given by agents after a call, and counted for reports. Everything through the scoped accessor."""
from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from typing import Any

from appliance.domain.errors import NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models.acd import AcdQueue, CallWrapUp, WrapUpCode
from appliance.models.access.resource import Resource
from appliance.models.access.scope import Scope

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_CODES_PER_CALL = 10
NOTE_MAX = 500


def _code_problem(code: str) -> str | None:
    return None if CODE_RE.match(code) else "must be 1–32 letters, digits, _ . - (starting with a letter or digit)"


FIELDS = (Field("code", required=True, max_length=32, check=_code_problem,
                help="short key shown in reports and exports, unique in the tenant"),
          Field("name", required=True, max_length=100, help="what agents see in the picker"),
          Field("queue_id", "id", nullable=True, help="only for this queue; empty: every queue of the tenant"),
          Field("tenant_id", "id", help="only the system admin passes it; others create in their own tenant"),
          Field("active", "bool"))


class WrapUpCodeResource(Resource):
    """Wrap-up codes of a tenant, optionally limited to one queue."""

    name, model = "wrap-up-codes", WrapUpCode
    create_schema = Schema("wrap_up_code", FIELDS)
    update_schema = Schema("wrap_up_code_update", tuple(f for f in FIELDS if f.name != "tenant_id"))
    search = ("name", "code")
    filters = ("queue_id", "active")
    unique = ("code",)


def _queue(scope: Scope, queue_key: str) -> AcdQueue | None:
    return scope.query(AcdQueue).where(AcdQueue.key == queue_key).first()


def codes_for(scope: Scope, queue_key: str) -> dict[str, Any]:
    """The active codes an agent may pick for a call of this queue, and whether the queue requires them."""
    scope.require(Perm.HISTORY_OWN)
    queue = _queue(scope, queue_key)
    query = scope.query(WrapUpCode).where(WrapUpCode.active == True)  # noqa: E712 (peewee expression)
    query = query.where(WrapUpCode.queue.is_null() | (WrapUpCode.queue == (queue.id if queue else -1)))
    codes = [{"code": c.code, "name": c.name, "queue_id": c.queue_id} for c in query.order_by(WrapUpCode.name)]
    return {"codes": codes, "required": bool(queue and queue.wrap_up_required)}


def give(scope: Scope, call_id: str, agent_id: str, queue_key: str, raw: Any) -> dict[str, Any]:
    """Store the codes (and note) one agent gives for one call; giving again replaces them."""
    if not isinstance(raw, dict):
        raise ValidationError({"body": "must be a JSON object with codes"})
    allowed = codes_for(scope, queue_key)
    codes, note = raw.get("codes"), raw.get("note", "")
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ValidationError({"codes": "must be a list of wrap-up codes"})
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        raise ValidationError({"note": f"must be text of at most {NOTE_MAX} characters"})
    codes = list(dict.fromkeys(codes))
    known = {c["code"] for c in allowed["codes"]}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationError({"codes": f"not a wrap-up code of this queue: {', '.join(unknown)[:200]}"})
    if len(codes) > MAX_CODES_PER_CALL:
        raise ValidationError({"codes": f"at most {MAX_CODES_PER_CALL} codes per call"})
    if not codes and (allowed["required"] or not note.strip()):
        raise ValidationError({"codes": "choose at least one wrap-up code"})
    tenant_id = scope.actor.tenant_id
    row = CallWrapUp.get_or_none((CallWrapUp.call_id == call_id) & (CallWrapUp.agent_id == agent_id))
    values = {"codes": json.dumps(codes), "note": note.strip(), "queue_key": queue_key,
              "created_at": datetime.datetime.utcnow()}
    if row is None:
        row = CallWrapUp.create(tenant=tenant_id, call_id=call_id, agent_id=agent_id, **values)
    elif row.tenant_id != tenant_id:
        raise NotFound(f"no call {call_id}")
    else:
        CallWrapUp.update(**values).where(CallWrapUp.id == row.id).execute()
    return {"call_id": call_id, "agent_id": agent_id, "codes": codes, "note": note.strip()}


def given_for(call_ids: list[str], tenant_id: int | None, everyone: bool) -> dict[str, list[dict[str, Any]]]:
    """The wrap-ups given for these calls (history rows), by call id; tenant-filtered unless `everyone`."""
    if not call_ids:
        return {}
    query = CallWrapUp.select().where(CallWrapUp.call_id.in_(call_ids))
    if not everyone:
        query = query.where(CallWrapUp.tenant == tenant_id)
    out: dict[str, list[dict[str, Any]]] = {}
    for row in query.order_by(CallWrapUp.created_at):
        out.setdefault(row.call_id, []).append({"agent_id": row.agent_id, "codes": json.loads(row.codes),
                                                "note": row.note})
    return out


def summary(scope: Scope, since: datetime.datetime | None) -> dict[str, Any]:
    """How often each code was given, per queue (a report figure beside the call KPIs)."""
    scope.require(Perm.HISTORY_TEAM)
    query = scope.query(CallWrapUp)
    if since is not None:
        query = query.where(CallWrapUp.created_at >= since)
    counts: Counter[tuple[str, str]] = Counter()
    calls: Counter[str] = Counter()
    for row in query:
        calls[row.queue_key] += 1
        for code in json.loads(row.codes):
            counts[(row.queue_key, code)] += 1
    names = {c.code: c.name for c in scope.query(WrapUpCode)}
    items = [{"queue": q, "code": c, "name": names.get(c, c), "count": n,
              "share": round(n / calls[q], 3) if calls[q] else 0.0}
             for (q, c), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1]))]
    return {"items": items, "calls_coded": dict(calls)}
