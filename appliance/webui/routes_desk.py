"""The agent desktop `/desk` (issue 6 part 1): home with priority work (G14), state control (B5), the screen pop's
customer file (D1, D2, D5, D12), call control (B3, B12) and ticket work (C2, F12, F15).

The page is server-rendered once; everything live arrives over the websocket (`routes_live`) or through the
REST API the desk's script calls with the session's CSRF token. What the domain API already offers (customers,
tickets, messages, actions, take next) the script calls directly; this module adds only what the desk needs
beyond it: the customer file in one answer, the agent's work ordered by SLA due time, sanitised HTML replies,
dialling, and the language choice.
"""
from __future__ import annotations

import datetime
import json
from typing import Any

import aiohttp_jinja2
import nh3
from aiohttp import web

from appliance.domain.acd import AcdError
from appliance.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from appliance.domain.workflow import FINAL_STATES, Action
from appliance.models.access import Scope, load_actor
from appliance.models.auth import utcnow
from appliance.pbx.adapter import UnsupportedAction
from appliance.pbx.setup import human_agent_id
from appliance.webui import locale
from appliance.webui.keys import DB, SUPERVISOR, USER
from appliance.webui.locale import N_
from appliance.webui.routes_acd import STAFF
from appliance.webui.security import csrf_token, require_role
from appliance.webui.api import bodies
from appliance.webui.api.base import api

routes = web.RouteTableDef()
FILE_HISTORY = 200     # messages of the customer's history in one file
FILE_ITEMS = 50        # documents, activities, open tickets
MY_WORK = 100          # the agent's own tickets on the home page
REPLY_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "blockquote", "pre", "code"}

# Strings desk.js shows, translated into the page's data attribute (no inline script under the CSP).
JS_STRINGS = (
    N_("Ready"), N_("Paused"), N_("Busy"), N_("Ringing"), N_("Wrap-up"), N_("Logged out"), N_("Reserved"),
    N_("Known customer"), N_("Unknown caller"), N_("Employee"), N_("Incoming call"), N_("On hold"),
    N_("Connected"), N_("Call ended"), N_("No open tickets."), N_("No history yet."), N_("No documents."),
    N_("No notes or tasks."), N_("Nothing waiting for you."), N_("Nothing fits you in the queue right now."),
    N_("overdue"), N_("due"), N_("Saved."), N_("Sent."), N_("Customer created."), N_("Ticket created."),
    N_("connecting…"), N_("live"), N_("offline, reconnecting…"), N_("Open"), N_("Caller"), N_("Queue"),
    N_("Digits"), N_("Waited"), N_("Not visible to you (private customer of a colleague)."),
    N_("Several customers share this number."), N_("Keyboard shortcuts"), N_("Done"), N_("Error"),
    N_("task"), N_("note"), N_("appointment"), N_("in"), N_("out"), N_("internal"), N_("Voice message"),
    N_("Document"), N_("Uploaded."),
    N_("SMS queued"), N_("SMS sent"), N_("SMS delivered"), N_("SMS undeliverable"), N_("SMS failed"),
    # desk-live.js: ticket news without a reload ({…} filled in by the script)
    N_("{n} open in the universal queue"), N_("Nothing open in the universal queue."), N_("Dismiss"),
    N_("New message from {name}"), N_("New ticket from {name}"), N_("New message on #{id}"),
    N_("SLA escalation {level} on #{id}"), N_("Resubmission due: #{id}"), N_("Customer"),
    N_("Customer attached by the external lookup."), N_("Open the file"), N_("escalated"),
)
SHORTCUTS = (
    ("a", N_("Answer the ringing call")), ("h", N_("Hold or retrieve")), ("x", N_("Hang up")),
    ("t", N_("Transfer")), ("r", N_("Go ready")), ("p", N_("Pause")), ("n", N_("Take the next ticket")),
    ("e", N_("Reply to the open ticket")), ("d", N_("Mark the open ticket done")),
    ("o", N_("Add a note to the open ticket")), ("f", N_("Send the open ticket's answer as a fax")),
    ("b", N_("Pick a text block for the reply")), ("j", N_("Open the ticket of the newest notice")),
    ("Ctrl+Space", N_("Pick a text block (in the reply)")), ("#… Tab", N_("Expand a text block by its shortcut")),
    ("/", N_("Search customers")), ("?", N_("Show this list")),
    ("Esc", N_("Close the dialog")),
)


def _scope(user_id: int, remote: str) -> Scope:
    return Scope(load_actor(user_id, remote))


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    """Run fn(scope, *args) in the database thread; domain errors become JSON answers."""
    user = request[USER]
    uid, remote = user.id, request.remote or ""
    try:
        return await request.app[DB].call(lambda: fn(_scope(uid, remote), *args))
    except ValidationError as exc:
        raise _json_error(400, "validation", "some fields are wrong", fields=exc.fields) from None
    except NotFound as exc:
        raise _json_error(404, "not_found", str(exc)) from None
    except Forbidden as exc:
        raise _json_error(403, "forbidden", str(exc)) from None
    except Conflict as exc:
        raise _json_error(409, "conflict", str(exc)) from None


def _json_error(status: int, code: str, message: str, **extra: Any) -> web.HTTPException:
    cls = {400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict,
           503: web.HTTPServiceUnavailable}[status]
    return cls(text=json.dumps({"error": code, "message": message, **extra}), content_type="application/json")


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------------------------- the customer file
def customer_file(scope: Scope, customer_id: int) -> dict[str, Any]:
    """Everything the screen pop shows of one customer, as far as the actor may see it (D1, D2, D5, D12)."""
    from appliance.models import Ticket
    from appliance.models.access import customers
    from appliance.models.access.customers import CustomerResource
    from appliance.models.access.tickets import TicketResource
    customer = CustomerResource().get(scope, customer_id)
    history = customers.history(scope, customer_id, {"limit": str(FILE_HISTORY)}).items
    documents = customers.list_documents(scope, customer_id, {"limit": str(FILE_ITEMS)}).items
    activities = customers.list_activities(scope, customer_id, {"limit": str(FILE_ITEMS)}).items
    resource = TicketResource()
    tickets = [resource.to_json(scope, t) for t in scope.query(Ticket)
               .where((Ticket.customer == customer_id) & Ticket.state.not_in(FINAL_STATES))
               .order_by(Ticket.due_at).limit(FILE_ITEMS)]
    history.reverse()  # newest first: the last contact is what the agent needs first
    return {"customer": customer, "history": history, "documents": documents, "activities": activities,
            "open_tickets": tickets}


def pop_for(user_id: int, offer: dict[str, Any]) -> dict[str, Any]:
    """The screen pop for one offered call: who is calling and, for a known customer, the file (sync)."""
    found = offer.get("customer") or {}
    pop: dict[str, Any] = {"identity": found.get("identity", "unknown"), "caller": offer.get("caller", ""),
                           "file": None}
    if pop["identity"] == "employee":
        pop["employee"] = {k: found.get(k, "") for k in ("name", "department", "title")}
    if pop["identity"] == "known":
        pop["ambiguous"] = bool(found.get("ambiguous"))
        pop["candidates"] = found.get("candidates", [])
        try:
            pop["file"] = customer_file(_scope(user_id, "desk"), int(found["id"]))
        except (NotFound, Forbidden):
            pop["hidden"] = True  # a private customer of a colleague: the agent learns no more than "known"
    return pop


# ------------------------------------------------------------------------------------------------------ the page
def _acd_view(request: web.Request) -> dict[str, Any]:
    service = request.app[SUPERVISOR].service("pbx_bridge")
    bridge = getattr(service, "bridge", None)
    if bridge is None:
        return {"running": False, "queues": [], "pause_reasons": [], "can_dial": False, "agent": None}
    try:
        agent = bridge.engine.agent(human_agent_id(request[USER].id))
    except AcdError:  # no phone profile yet
        agent = None
    return {"running": True, "queues": [{"id": q.id, "name": q.name or q.id} for q in bridge.engine.queues()],
            "pause_reasons": sorted(bridge.engine.pause_reasons), "can_dial": bridge.can_dial,
            "adapter": bridge.adapter.name,
            "agent": None if agent is None else {"state": agent.state.value, "extension": agent.extension,
                                                 "mode": agent.mode.value, "reason": agent.pause_reason,
                                                 "call_id": agent.call_id}}


@routes.get("/desk")
@require_role(*STAFF)
@aiohttp_jinja2.template("desk.html")
async def desk(request: web.Request) -> dict[str, Any]:
    """The agent desktop."""
    user = request[USER]
    acd = _acd_view(request)
    messages = locale.strings(list(JS_STRINGS) + [s for _, s in SHORTCUTS])
    return {"user": user, "csrf": await csrf_token(request), "section": "desk", "acd": acd,
            "shortcuts": SHORTCUTS, "strings_json": _dumps(messages), "acd_json": _dumps(acd),
            "me_json": _dumps({"id": user.id, "tenant_id": getattr(user, "tenant_id", None),
                               "name": user.display_name or user.username})}


@routes.post("/account/language")
async def set_language(request: web.Request) -> web.StreamResponse:
    """Store the user's language (per-user choice) and go back to the page they came from."""
    from appliance.models import User
    form = await request.post()
    language = str(form.get("language", ""))
    if language not in locale.LANGUAGES:
        raise web.HTTPBadRequest(text=f"Unknown language {language!r}.")
    uid = request[USER].id
    await request.app[DB].call(lambda: User.update(language=language).where(User.id == uid).execute())
    back = str(form.get("next", "")) or "/"
    raise web.HTTPFound(back if back.startswith("/") and not back.startswith("//") else "/")


# ------------------------------------------------------------------------------------------------- desk data
@routes.get(r"/desk/customers/{id:\d+}/file")
@require_role(*STAFF)
async def file_of(request: web.Request) -> web.Response:
    """A customer's file (opened from search, after creating one, or from a ticket)."""
    data = await _run(request, customer_file, int(request.match_info["id"]))
    return web.json_response(data, dumps=_dumps)


def my_work(scope: Scope) -> dict[str, Any]:
    """The agent's own open tickets by SLA due time, overdue first, and open tasks assigned to them (G14)."""
    from appliance.models import Activity, Ticket
    from appliance.models.access.tickets import TicketResource
    now = utcnow()
    resource = TicketResource()
    tickets = []
    for t in (scope.query(Ticket).where((Ticket.owner == scope.actor.user_id) & Ticket.state.not_in(FINAL_STATES))
              .order_by(Ticket.due_at, Ticket.priority, Ticket.id).limit(MY_WORK)):
        item = resource.to_json(scope, t)
        item["overdue"] = t.due_at is not None and t.due_at < now and t.state == "open"
        tickets.append(item)
    tasks = [{"id": a.id, "customer_id": a.customer_id, "ticket_id": a.ticket_id, "text": a.text[:200],
              "due_at": a.due_at.isoformat() + "Z" if a.due_at else None,
              "overdue": a.due_at is not None and a.due_at < now}
             for a in scope.query(Activity).where((Activity.assignee == scope.actor.user_id)
                                                  & (Activity.kind == "task") & (Activity.done == False))  # noqa
             .order_by(Activity.due_at).limit(MY_WORK)]
    alerts = []
    overdue = sum(1 for t in tickets if t["overdue"])
    if overdue:
        alerts.append({"kind": "overdue", "count": overdue})
    late_tasks = sum(1 for t in tasks if t["overdue"])
    if late_tasks:
        alerts.append({"kind": "tasks_overdue", "count": late_tasks})
    escalated = sum(1 for t in tickets if t.get("escalation_level"))
    if escalated:  # an SLA escalation step was reached on them (F8); live, desk-live.js names each as it comes
        alerts.append({"kind": "escalated", "count": escalated})
    return {"tickets": tickets, "tasks": tasks, "alerts": alerts, "queue_count": queue_count(scope),
            "now": now.isoformat() + "Z"}


def queue_count(scope: Scope) -> int:
    """Open tickets nobody owns in the mailboxes the agent's teams may take from: the universal queue (F15, F3)."""
    from appliance.models import Ticket
    from appliance.models.access.tickets import agent_limits
    q = scope.query(Ticket).where((Ticket.state == "open") & Ticket.owner.is_null())
    limits = agent_limits(scope.actor.tenant_id, scope.actor.user_id)
    if limits.mailboxes is not None:
        q = q.where(Ticket.mailbox.is_null() | Ticket.mailbox.in_(sorted(limits.mailboxes) or [0]))
    return q.count()


@routes.get("/desk/work")
@require_role(*STAFF)
async def work(request: web.Request) -> web.Response:
    """Priority work and alerts of the home page."""
    if getattr(request[USER], "tenant_id", None) is None:
        return web.json_response({"tickets": [], "tasks": [], "alerts": [], "queue_count": 0,
                                  "now": utcnow().isoformat() + "Z"})
    return web.json_response(await _run(request, my_work), dumps=_dumps)


def sanitise_reply(body: str, html: bool) -> str:
    """A reply as stored: plain text unchanged, HTML through the nh3 allow-list (C2)."""
    if not html:
        return body
    return nh3.clean(body, tags=REPLY_TAGS, attributes={"a": {"href"}}, url_schemes={"https", "http", "mailto"},
                     link_rel="noopener noreferrer")


def _reply(scope: Scope, ticket_id: int, data: dict[str, Any]) -> dict[str, Any]:
    from appliance.models.access import tickets
    return tickets.apply_action(scope, ticket_id, data)


@routes.post(r"/desk/tickets/{id:\d+}/reply")
@require_role(*STAFF)
async def reply(request: web.Request) -> web.Response:
    """Reply on the ticket's channel or another: e-mail through the mail outbox (routes_reply), the other
    channels through the domain's `send` action with a sanitised body."""
    try:
        body = await request.json()
    except ValueError:
        raise _json_error(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise _json_error(400, "validation", "some fields are wrong", fields={"text": "is required"})
    if body.get("channel") == "mail":
        from appliance.webui import routes_reply  # it builds on this module's helpers
        return await routes_reply.mail_reply(request, body)
    action = {"action": Action.SEND.value, "recipient": body.get("recipient", ""), "channel": body.get("channel"),
              "subject": body.get("subject") or None, "close": bool(body.get("close")),
              "text": sanitise_reply(body["text"], bool(body.get("html")))}
    action = {k: v for k, v in action.items() if v is not None}
    item = await _run(request, _reply, int(request.match_info["id"]), action)
    return web.json_response(item, dumps=_dumps)


@api("POST", "/acd/me/dial", "Call a customer or a number from your phone (B3)", "acd", bodies.DIAL, table=routes)
@require_role(*STAFF)
async def dial(request: web.Request) -> web.Response:
    """Call a customer or a typed number from the agent's phone, if the PBX adapter can (B3)."""
    service = request.app[SUPERVISOR].service("pbx_bridge")
    bridge = getattr(service, "bridge", None)
    if bridge is None:
        raise _json_error(503, "acd_unavailable", "The ACD (pbx_bridge service) is not running.")
    try:
        body = await request.json()
    except ValueError:
        body = None
    number = body.get("number") if isinstance(body, dict) else None
    if not isinstance(number, str) or not 2 <= len(number.strip()) <= 40 \
            or not all(c.isdigit() or c in "+ -()/" for c in number):
        raise _json_error(400, "invalid", "number must be a phone number", field="number")
    if not bridge.can_dial:
        raise _json_error(409, "unsupported", f"The {bridge.adapter.name} adapter cannot dial out.")
    try:
        call_id = await bridge.dial(human_agent_id(request[USER].id), number.strip())
    except UnsupportedAction as exc:
        raise _json_error(409, "unsupported", str(exc)) from None
    except AcdError as exc:  # no phone profile
        raise _json_error(404, "no_phone_profile", f"You have no phone profile: {exc}") from None
    return web.json_response({"call_id": call_id, "number": number.strip(),
                              "at": datetime.datetime.now(datetime.timezone.utc).isoformat()})
