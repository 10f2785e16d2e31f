"""Call control over HTTP beyond answer/hold/blind transfer (B3, B12): mute, consultation, attended transfer,
three-way and leaving it; the call panel's parties; wrap-up codes given after a call and their report.

Agents control only calls they are on (as the call's agent or the consulted colleague); everything else is
a 404 exactly like a call that does not exist. Wrap-up codes go through the scoped accessor (tenant).
"""
from __future__ import annotations

import datetime
import json
from typing import Any

from aiohttp import web

from appliance.domain.acd import AcdError
from appliance.pbx.adapter import UnsupportedAction
from appliance.pbx.setup import human_agent_id
from appliance.pbx.verification import VERIFY_KINDS
from appliance.webui.api.base import api, json_error, read_json, respond, run
from appliance.webui.keys import USER
from appliance.webui.routes_acd import LEADS, STAFF, _error, bridge_of
from appliance.webui.security import require_role

routes = web.RouteTableDef()
ACTIONS = "mute|unmute|consult|consult-cancel|consult-complete|conference|leave|verify"
NUMBER_CHARS = set("0123456789+*#")


def _target(body: dict[str, Any]) -> str:
    raw = body.get("target")
    target = "".join(c for c in raw if c not in " -()/") if isinstance(raw, str) else ""
    if not 1 <= len(target) <= 40 or not set(target) <= NUMBER_CHARS:
        raise _error(400, "invalid", "target must be a colleague's extension or a phone number", field="target")
    return target


def _live_call_of(bridge, call_id: str, agent_id: str):
    """The live call if this agent is on it (its agent, ringing, or consulted), else 404."""
    try:
        call = bridge.engine.call(call_id)
    except AcdError:
        raise _error(404, "no_such_call", f"No live call {call_id}.") from None
    consulted = call.consult.agent_id if call.consult else None
    if agent_id not in call.offered_to and agent_id not in (call.agent_id, consulted):
        raise _error(404, "no_such_call", f"No live call {call_id} for you.")
    return call


@api("POST", r"/acd/calls/{call_id}/{action:" + ACTIONS + "}", "Mute or unmute, consult, cancel or complete "
     "the consultation, three-way, leave, or send the customer to an IVR verification and back (your own "
     "call; verify: body kind = customer_number or digits, the result follows as a call.parties event)", "acd",
     table=routes)
@require_role(*STAFF)
async def control(request: web.Request) -> web.Response:
    """Mute/unmute, consult (body: target = extension or number), cancel or complete it, three-way, leave,
    verify (body: kind)."""
    service, bridge = bridge_of(request)
    call_id, action = request.match_info["call_id"], request.match_info["action"]
    me = human_agent_id(request[USER].id)
    call = _live_call_of(bridge, call_id, me)
    body = await read_json(request) if request.can_read_body else {}
    if not isinstance(body, dict):
        raise _error(400, "invalid_json", "The request body must be a JSON object.")
    lead = call.agent_id == me
    try:
        if action in ("mute", "unmute"):
            await bridge.mute(call_id, me, action == "mute")
        elif action == "leave":
            await bridge.leave(call_id, me)
        elif not lead:
            raise _error(409, "not_leading", "Only the agent who has the customer can do this.")
        elif action == "consult":
            target = _target(body)
            _colleague_or_outside(service, bridge, me, target)
            await bridge.consult(call_id, me, target)
        elif action == "consult-cancel":
            await bridge.consult_cancel(call_id)
        elif action == "consult-complete":
            await bridge.consult_complete(call_id)
        elif action == "verify":
            kind = body.get("kind", "customer_number")
            if kind not in VERIFY_KINDS:
                raise _error(400, "invalid", f"kind must be one of {', '.join(VERIFY_KINDS)}", field="kind")
            await bridge.verify(call_id, me, kind)
        else:
            await bridge.conference(call_id)
    except UnsupportedAction as exc:
        raise _error(409, "unsupported", str(exc)) from None
    except AcdError as exc:
        raise _error(409, "acd_refused", str(exc)) from None
    return web.json_response({"ok": True, "action": action, **bridge.call_view(call_id)})


def _colleague_or_outside(service, bridge, me: str, target: str) -> None:
    """An extension of an agent of another tenant is nobody's to consult (tenant isolation)."""
    other = bridge._agent_at(target)
    tenants = service.setup.agent_tenants if service.setup else {}
    if other is not None and tenants.get(other) != tenants.get(me):
        raise _error(404, "no_such_colleague", f"Extension {target} is not a colleague of yours.")


@api("GET", r"/acd/calls/{call_id}/parties", "Who is on your call and in which state", "acd", table=routes)
@require_role(*STAFF)
async def parties(request: web.Request) -> web.Response:
    """Who is on the call and in which state (the call panel)."""
    _, bridge = bridge_of(request)
    call_id = request.match_info["call_id"]
    _live_call_of(bridge, call_id, human_agent_id(request[USER].id))
    return web.json_response(bridge.call_view(call_id))


# ---------------------------------------------------------------------------------------------- wrap-up codes
def _queue_of_handled(bridge, call_id: str, agent_id: str) -> str | None:
    """The queue of a call this agent handled (live, just ended, or in the history), else None."""
    queue = bridge.handled_queue(call_id, agent_id)
    if queue is not None:
        return queue
    from appliance.models.acd import CallRecord
    row = CallRecord.get_or_none(CallRecord.call_id == call_id)
    if row is not None and _took_part(agent_id, row.agent_id, json.loads(row.parties or "[]")):
        return row.queue_key
    return None


def _took_part(agent_id: str, answered_by: str | None, steps: list[dict[str, Any]]) -> bool:
    return answered_by == agent_id or any(agent_id in (s.get("by"), s.get("to_agent")) for s in steps)


def _handled(request: web.Request) -> tuple[Any, str, str]:
    _, bridge = bridge_of(request)
    return bridge, request.match_info["call_id"], human_agent_id(request[USER].id)


@api("GET", "/acd/calls/{call_id}/wrap-up", "The wrap-up codes the agent may give for a call they handled, "
     "whether its queue requires them, and what was given", "acd")
@require_role(*STAFF)
async def wrap_up_codes(request: web.Request) -> web.Response:
    """Codes for the picker."""
    bridge, call_id, me = _handled(request)

    def load(scope):
        from appliance.models.access import wrapup
        queue = _queue_of_handled(bridge, call_id, me)
        if queue is None:
            raise _error(404, "no_such_call", f"No call {call_id} of yours.")
        given = wrapup.given_for([call_id], scope.actor.tenant_id, False).get(call_id, [])
        return {**wrapup.codes_for(scope, queue), "queue": queue, "call_id": call_id,
                "given": [g for g in given if g["agent_id"] == me]}

    return respond(await run(request, load))


@api("POST", "/acd/calls/{call_id}/wrap-up", "Give wrap-up codes (and a note) for a call you handled; "
     "ends a wrap-up held for them", "acd")
@require_role(*STAFF)
async def give_wrap_up(request: web.Request) -> web.Response:
    """Store the codes; the agent's wrap-up may end now."""
    bridge, call_id, me = _handled(request)
    body = await read_json(request)

    def store(scope):
        from appliance.models.access import wrapup
        queue = _queue_of_handled(bridge, call_id, me)
        if queue is None:
            raise _error(404, "no_such_call", f"No call {call_id} of yours.")
        return wrapup.give(scope, call_id, me, queue, body)

    given = await run(request, store)
    try:
        agent = bridge.engine.agent(me)
    except AcdError:
        agent = None
    if agent is not None and agent.last_call_id == call_id and agent.wrap_hold:
        bridge.engine.hold_wrap_up(me, False, bridge.clock())
        bridge._wake.set()
    return respond(given, 201)


@api("GET", "/calls/wrap-up-summary", "How often each wrap-up code was given, per queue (since=ISO date)",
     "acd", query=("since",))
@require_role(*LEADS)
async def wrap_up_summary(request: web.Request) -> web.Response:
    """Report figures by wrap-up code."""
    since = None
    if request.query.get("since"):
        try:
            since = datetime.datetime.fromisoformat(request.query["since"].rstrip("Z"))
        except ValueError:
            raise json_error(400, "validation", "some fields are wrong",
                             {"since": "must be an ISO 8601 date or time"}) from None
    from appliance.models.access import wrapup
    return respond(await run(request, wrapup.summary, since))


# ---------------------------------------------------------------------------------------------- history page
HISTORY_PAGE = 50
PARTY_FILTERS = {"transfer": '"kind": "transfer"', "conference": '"kind": "conference"',
                 "consult": '"kind": "consult"'}


def history_page(params: dict[str, Any], party: str, cursor: int | None, tenant_id: int | None,
                 everyone: bool) -> tuple[list[dict[str, Any]], int | None]:
    """One page of the call history with parties and wrap-up codes (sync, in the database thread)."""
    from appliance.models.acd import CallRecord
    from appliance.webui.routes_acd import _history_query, _record_data, _with_wrap_ups
    query = _history_query(params, tenant_id, everyone)
    if party in PARTY_FILTERS:  # the seed's three-way and transfer records (三方通话记录)
        query = query.where(CallRecord.parties.contains(PARTY_FILTERS[party]))
    if cursor is not None:
        query = query.where(CallRecord.id < cursor)
    rows = _with_wrap_ups([_record_data(r) for r in query.limit(HISTORY_PAGE + 1)], tenant_id, everyone)
    more = len(rows) > HISTORY_PAGE
    rows = rows[:HISTORY_PAGE]
    for row in rows:
        row["steps"] = [{**p, "time": datetime.datetime.fromtimestamp(p.get("at") or 0, datetime.timezone.utc)
                         .strftime("%H:%M:%S")} for p in row["parties"]
                        if p.get("kind") in ("consult", "transfer", "conference", "left", "busy", "no_answer")]
    return rows, rows[-1]["id"] if more and rows else None


@routes.get("/calls")
@require_role(*LEADS)
async def history(request: web.Request) -> web.Response:
    """The call history for team leads: filters, transfers and three-ways with who/when/to whom, wrap-up codes."""
    import aiohttp_jinja2
    from appliance.webui.keys import DB
    from appliance.webui.routes_acd import _params
    user = request[USER]
    params = _params(request)
    party = request.query.get("party", "")
    try:
        cursor = int(request.query["cursor"]) if request.query.get("cursor") else None
    except ValueError:
        raise web.HTTPBadRequest(text="cursor must be a whole number") from None
    tenant = getattr(user, "tenant_id", None)
    rows, next_cursor = await request.app[DB].call(history_page, params, party, cursor, tenant,
                                                   user.role == "admin" and tenant is None)
    from appliance.models.access import wrapup
    today = datetime.datetime.combine(datetime.date.today(), datetime.time())
    codes = await run(request, wrapup.summary, params.get("since") or today)
    from urllib.parse import urlencode
    query = {k: v for k, v in request.query.items() if k != "cursor" and v}
    return aiohttp_jinja2.render_template("calls.html", request, {
        "user": user, "section": "calls", "rows": rows, "filters": query, "party": party, "codes": codes,
        "codes_since": (params.get("since") or today).date().isoformat(),
        "older": urlencode({**query, "cursor": next_cursor}) if next_cursor else "",
        "csv_query": urlencode({k: v for k, v in query.items() if k != "party"})})
