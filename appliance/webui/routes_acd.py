"""ACD over HTTP: agent state and call control for the desk (B3, B5, B12), the live snapshot for the
wallboard (B16), call history (B15) and queue scripts with validation and live activation (B8)."""
from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

from aiohttp import web

from appliance.domain.acd import AcdError, AgentState, UnknownAgent
from appliance.domain.queue_script import ScriptError, parse
from appliance.pbx.setup import human_agent_id
from appliance.webui.keys import DB, SUPERVISOR, USER
from appliance.webui.security import require_role
from appliance.webui.api import bodies
from appliance.webui.api.base import api

routes = web.RouteTableDef()
STAFF = ("agent", "team_lead", "supervisor", "admin")
LEADS = ("team_lead", "supervisor", "admin")
MAX_LIMIT = 1000


def _error(status: int, code: str, message: str, **extra: Any) -> web.HTTPException:
    body = json.dumps({"error": code, "message": message, **extra})
    return {400: web.HTTPBadRequest, 404: web.HTTPNotFound, 409: web.HTTPConflict,
            503: web.HTTPServiceUnavailable}[status](text=body, content_type="application/json")


def bridge_of(request: web.Request):
    """The running ACD bridge, or 503 when the pbx_bridge service is not running."""
    service = request.app[SUPERVISOR].service("pbx_bridge")
    bridge = getattr(service, "bridge", None)
    if bridge is None:
        raise _error(503, "acd_unavailable", "The ACD (pbx_bridge service) is not running.")
    return service, bridge


def visible_queues(request: web.Request, service) -> set[str] | None:
    """Queue ids this user may watch: all for the system admin, else their tenant's (None: all)."""
    user = request[USER]
    if user.role == "admin" and getattr(user, "tenant_id", None) is None:
        return None
    tenants = service.setup.queue_tenants if service.setup else {}
    return {q for q, t in tenants.items() if t == getattr(user, "tenant_id", None)} | (
        {q.id for q in service.setup.engine.queues()} if service.setup and service.setup.demo else set())


def filtered_snapshot(request: web.Request) -> dict[str, Any]:
    """The wallboard snapshot limited to what this user may see."""
    service, bridge = bridge_of(request)
    snap = bridge.snapshot()
    allowed = visible_queues(request, service)
    if allowed is not None:
        snap["queues"] = [q for q in snap["queues"] if q["id"] in allowed]
    snap["demo"] = bool(service.setup and service.setup.demo)
    return snap


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _error(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _error(400, "invalid_json", "The request body must be a JSON object.")
    return body


def _acd(fn, *args: Any) -> Any:
    try:
        return fn(*args)
    except AcdError as exc:
        raise _error(409, "acd_refused", str(exc)) from None


@api("GET", "/acd/snapshot", "Queues with waiting calls, agents and KPIs as far as you may see them", "acd", table=routes)
@require_role(*STAFF)
async def snapshot(request: web.Request) -> web.Response:
    """Queues with waiting calls, agents and KPIs (today, last 15 minutes)."""
    return web.json_response(filtered_snapshot(request))


@api("GET", "/acd/decisions", "Recent routing decisions with their candidates (why this agent got this call)", "acd", paged=True, table=routes)
@require_role(*LEADS)
async def decisions(request: web.Request) -> web.Response:
    """Recent routing decisions with their candidates: why this agent got this call."""
    service, bridge = bridge_of(request)
    allowed = visible_queues(request, service)
    items = [d for d in reversed(bridge.recent_decisions) if allowed is None or d["queue_id"] in allowed]
    return web.json_response({"items": items[:100], "next": None})


@api("GET", "/acd/me", "Your agent state, mode and pause reasons (404 without a phone profile)", "acd", table=routes)
@require_role(*STAFF)
async def me(request: web.Request) -> web.Response:
    """The calling user's agent state, or 404 without a phone profile."""
    _, bridge = bridge_of(request)
    agent_id = human_agent_id(request[USER].id)
    try:
        agent = bridge.engine.agent(agent_id)
    except AcdError:
        raise _error(404, "no_phone_profile", "You have no phone profile (extension); ask your administrator.")
    return web.json_response({"agent_id": agent.id, "state": agent.state.value, "reason": agent.pause_reason,
                              "mode": agent.mode.value, "extension": agent.extension, "call_id": agent.call_id,
                              "phone": bridge.external_phones.get(agent.id),
                              "pause_reasons": sorted(bridge.engine.pause_reasons)})


@api("POST", "/acd/me/{action:login|logout|ready|pause}", "Log in (with a mode), log out, go ready, pause with a reason", "acd", bodies.AGENT_ACTION, table=routes)
@require_role(*STAFF)
async def agent_action(request: web.Request) -> web.Response:
    """Log in (with a readiness mode), log out, go ready, pause with a reason."""
    _, bridge = bridge_of(request)
    body = await _json(request)
    agent_id = human_agent_id(request[USER].id)
    action = request.match_info["action"]
    try:
        bridge.engine.agent(agent_id)
    except UnknownAgent:
        raise _error(404, "no_phone_profile", "You have no phone profile (extension); ask your administrator.") from None
    if action == "login":
        mode = body.get("mode", "inbound")
        if mode not in ("inbound", "outbound", "back_office"):
            raise _error(400, "invalid", "mode must be inbound, outbound or back_office", field="mode")
        _acd(bridge.login, agent_id, mode, body.get("pause_reason"), _outside_number(body.get("phone")))
    elif action == "logout":
        _acd(bridge.logout, agent_id)
    elif action == "ready":
        _acd(bridge.ready, agent_id)
    else:
        reason = body.get("reason")
        if not isinstance(reason, str) or reason not in bridge.engine.pause_reasons:
            raise _error(400, "invalid", f"reason must be one of {', '.join(sorted(bridge.engine.pause_reasons))}",
                         field="reason")
        _acd(bridge.pause, agent_id, reason)
    agent = bridge.engine.agent(agent_id)
    return web.json_response({"state": agent.state.value, "reason": agent.pause_reason, "mode": agent.mode.value,
                              "phone": bridge.external_phones.get(agent_id)})


def _outside_number(raw: Any) -> str | None:
    """External phone mode (B12): the outside number offers ring instead of the extension, as E.164; None or ""
    for the extension. International format only: the agent may be anywhere, so no region is assumed."""
    if raw in (None, ""):
        return None
    import phonenumbers
    try:
        number = phonenumbers.parse(raw, None) if isinstance(raw, str) and len(raw) <= 40 else None
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _error(400, "invalid", "phone: an outside number in international format, e.g. +49 170 1234567",
                     field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@api("POST", "/acd/calls/{call_id}/{action:answer|hangup|transfer|hold|retrieve}", "Call control of your own call", "acd", bodies.CALL_ACTION, table=routes)
@require_role(*STAFF)
async def call_action(request: web.Request) -> web.Response:
    """Call control from the desk; an agent controls only their own call."""
    _, bridge = bridge_of(request)
    call_id, action = request.match_info["call_id"], request.match_info["action"]
    agent_id = human_agent_id(request[USER].id)
    try:
        call = bridge.engine.call(call_id)
    except AcdError:
        raise _error(404, "no_such_call", f"No live call {call_id}.") from None
    if agent_id not in call.offered_to and call.agent_id != agent_id:
        raise _error(404, "no_such_call", f"No live call {call_id} for you.")
    body = await _json(request)
    try:
        if action == "answer":
            await bridge.answer(call_id, agent_id)
        elif action == "hangup":
            await bridge.hangup(call_id)
        elif action == "transfer":
            queue, number = body.get("queue"), body.get("number")
            if bool(queue) == bool(number):
                raise _error(400, "invalid", "give exactly one of queue or number", field="queue")
            await bridge.transfer(call_id, to_queue=queue, to_number=number)
        else:
            await bridge.hold(call_id, action == "hold")
    except AcdError as exc:
        raise _error(409, "acd_refused", str(exc)) from None
    return web.json_response({"ok": True, "call_id": call_id, "action": action})


def _history_query(params, tenant_id: int | None, is_system_admin: bool):
    from appliance.models.acd import CallRecord
    query = CallRecord.select().order_by(CallRecord.id.desc())
    if not is_system_admin:
        query = query.where(CallRecord.tenant == tenant_id)
    for key, column in (("outcome", CallRecord.outcome), ("queue", CallRecord.queue_key),
                        ("agent", CallRecord.agent_id), ("caller", CallRecord.caller)):
        if params.get(key):
            query = query.where(column == params[key])
    if params.get("since"):
        query = query.where(CallRecord.arrived_at >= params["since"])
    return query


def _record_data(row) -> dict[str, Any]:
    return {"id": row.id, "call_id": row.call_id, "direction": row.direction, "caller": row.caller,
            "dialled": row.dialled, "queue": row.queue_key, "agent_id": row.agent_id, "outcome": row.outcome,
            "loss": row.loss, "arrived_at": row.arrived_at.isoformat() + "Z", "wait_s": row.wait_s,
            "talk_s": row.talk_s, "digits": row.digits, "survey_score": row.survey_score,
            "notes": json.loads(row.notes or "[]"), "parties": json.loads(row.parties or "[]")}


def _with_wrap_ups(rows: list[dict[str, Any]], tenant_id: int | None, everyone: bool) -> list[dict[str, Any]]:
    """Each history row with the wrap-up codes its agents gave, and a flat list of them (exports, filters)."""
    from appliance.models.access.wrapup import given_for
    given = given_for([r["call_id"] for r in rows], tenant_id, everyone)
    for row in rows:
        row["wrap_ups"] = given.get(row["call_id"], [])
        row["wrap_up_codes"] = sorted({c for g in row["wrap_ups"] for c in g["codes"]})
        row["transfers"] = "; ".join(f"{p.get('kind')}:{p.get('by', '')}>{p.get('to', '')}"
                                     for p in row["parties"] if p.get("kind") in ("transfer", "conference", "left"))
    return rows


def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = {k: request.query.get(k) for k in ("outcome", "queue", "agent", "caller")}
    if request.query.get("since"):
        try:
            params["since"] = datetime.datetime.fromisoformat(request.query["since"].rstrip("Z"))
        except ValueError:
            raise _error(400, "invalid", "since must be an ISO 8601 date or time", field="since") from None
    return params


@api("GET", "/calls", "The call history (B15), filtered and paged", "calls", query=("limit", "cursor", "outcome", "queue", "agent", "caller", "since"), paged=True, table=routes)
@require_role(*LEADS)
async def call_history(request: web.Request) -> web.Response:
    """The communication history (B15): filters outcome, queue, agent, caller, since; paged by cursor."""
    try:
        limit = min(int(request.query.get("limit", 100)), MAX_LIMIT)
        cursor = int(request.query["cursor"]) if request.query.get("cursor") else None
    except ValueError:
        raise _error(400, "invalid", "limit and cursor must be whole numbers", field="limit") from None
    user = request[USER]
    params = _params(request)
    everyone = user.role == "admin" and getattr(user, "tenant_id", None) is None

    def fetch():
        from appliance.models.acd import CallRecord
        query = _history_query(params, getattr(user, "tenant_id", None), everyone)
        if cursor is not None:
            query = query.where(CallRecord.id < cursor)
        return _with_wrap_ups([_record_data(r) for r in query.limit(max(1, limit) + 1)],
                              getattr(user, "tenant_id", None), everyone)

    rows = await request.app[DB].call(fetch)
    more = len(rows) > limit
    rows = rows[:limit]
    return web.json_response({"items": rows, "next": rows[-1]["id"] if more and rows else None})


@api("GET", "/calls.csv", "The call history as CSV", "calls", query=("outcome", "queue", "agent", "caller", "since"), table=routes)
@require_role(*LEADS)
async def call_history_csv(request: web.Request) -> web.Response:
    """The same history as CSV (exportable, B15)."""
    user = request[USER]
    params = _params(request)

    everyone = user.role == "admin" and getattr(user, "tenant_id", None) is None

    def fetch():
        query = _history_query(params, getattr(user, "tenant_id", None), everyone)
        return _with_wrap_ups([_record_data(r) for r in query.limit(100_000)], getattr(user, "tenant_id", None),
                              everyone)

    rows = await request.app[DB].call(fetch)
    out = io.StringIO()
    fields = ["call_id", "direction", "caller", "dialled", "queue", "agent_id", "outcome", "loss", "arrived_at",
              "wait_s", "talk_s", "digits", "survey_score", "wrap_up_codes", "transfers"]
    writer = csv.DictWriter(out, fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({**r, "wrap_up_codes": " ".join(r["wrap_up_codes"])} for r in rows)
    return web.Response(text=out.getvalue(), content_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="calls.csv"'})


@api("GET", "/acd/queues/{key}/script", "A queue's script versions, newest first", "acd", table=routes)
@require_role(*LEADS)
async def script_versions(request: web.Request) -> web.Response:
    """A queue's script versions, newest first, with the active one marked."""
    from appliance.models.acd import AcdQueue, QueueScriptVersion
    key = request.match_info["key"]

    def fetch():
        queue = _queue_for(request, key)
        return [{"version": v.version, "active": v.active, "text": v.text, "created_at": v.created_at.isoformat()}
                for v in QueueScriptVersion.select().where(QueueScriptVersion.queue == queue)
                .order_by(QueueScriptVersion.version.desc())]

    return web.json_response({"items": await request.app[DB].call(fetch), "next": None})


def _queue_for(request: web.Request, key: str):
    from appliance.models.acd import AcdQueue
    user = request[USER]
    queue = AcdQueue.get_or_none(AcdQueue.key == key)
    tenant = getattr(user, "tenant_id", None)
    if queue is None or (tenant is not None and queue.tenant_id != tenant):
        raise _error(404, "no_such_queue", f"No queue {key}.")
    return queue


@api("POST", "/acd/queues/{key}/script", "Save a new script version (activate: put it live now)", "acd", bodies.SCRIPT, table=routes)
@require_role(*LEADS)
async def save_script(request: web.Request) -> web.Response:
    """Save a new version (400 with every problem and its line when invalid); `activate` puts it live now."""
    from appliance.models.acd import QueueScriptVersion
    body = await _json(request)
    text = body.get("text")
    if not isinstance(text, str) or len(text) > 100_000:
        raise _error(400, "invalid", "text must be the script as a string (at most 100,000 characters)", field="text")
    try:
        script = parse(text)
    except ScriptError as exc:
        return web.json_response({"error": "invalid_script", "message": "The script was not saved.",
                                  "problems": [{"line": p.line, "message": p.message} for p in exc.problems]},
                                 status=400)
    key = request.match_info["key"]
    activate = bool(body.get("activate"))
    user = request[USER]

    def store() -> int:
        queue = _queue_for(request, key)
        last = (QueueScriptVersion.select(QueueScriptVersion.version).where(QueueScriptVersion.queue == queue)
                .order_by(QueueScriptVersion.version.desc()).first())
        version = (last.version if last else 0) + 1
        if activate:
            QueueScriptVersion.update(active=False).where(QueueScriptVersion.queue == queue).execute()
        QueueScriptVersion.create(queue=queue, version=version, text=text, active=activate, author=user.id)
        return version

    version = await request.app[DB].call(store)
    live = False
    if activate:
        service = request.app[SUPERVISOR].service("pbx_bridge")
        bridge = getattr(service, "bridge", None)
        if bridge is not None and key in {q.id for q in bridge.engine.queues()}:
            bridge.scripts[key] = script  # new callers get it at once; callers mid-script finish the old one
            live = True
    return web.json_response({"version": version, "active": activate, "live": live}, status=201)


def agent_state_counts(snapshot: dict[str, Any]) -> dict[str, int]:
    """How many agents are in each state (for the wallboard header)."""
    counts = {s.value: 0 for s in AgentState if s is not AgentState.LOGGED_OUT}
    for agent in snapshot["agents"]:
        counts[agent["state"]] = counts.get(agent["state"], 0) + 1
    return counts
