"""Ticket endpoints beyond CRUD: messages, workflow actions, outage links, back-office steps, next work."""
from __future__ import annotations

from aiohttp import web

from appliance.bus import EventKind
from appliance.domain.workflow import PARAMS, Action
from appliance.domain.schema import Field, Schema
from appliance.models.access import tickets
from appliance.webui.api.base import api, object_id, publish, read_json, respond, run

TICKET = r"/tickets/{id:\d+}"
ACTION_SCHEMA = Schema("action", (Field("action", required=True, choices=tuple(a.value for a in Action),
                                        help="plus the action's own fields: " + "; ".join(
                                            f"{a.value}: {', '.join(f.name for f in s.fields)}"
                                            for a, s in PARAMS.items())),))


@api("GET", TICKET + "/messages", "A ticket's messages, oldest first", "tickets", query=("limit", "cursor"),
     paged=True)
async def list_messages(request: web.Request) -> web.Response:
    """List."""
    return respond(await run(request, tickets.list_messages, object_id(request), dict(request.query)))


@api("POST", TICKET + "/messages", "Add a message in or out (idempotent by idempotency_key)", "tickets",
     tickets.MESSAGE_SCHEMA)
async def add_message(request: web.Request) -> web.Response:
    """201 for a new message, 200 with the first one for a repeated key."""
    msg, created = await run(request, tickets.add_message, object_id(request), await read_json(request))
    if created:
        publish(request, EventKind.MESSAGE_RECEIVED, msg["tenant_id"], ticket_id=msg["ticket_id"], message_id=msg["id"])
    return respond(msg, 201 if created else 200)


@api("POST", TICKET + "/actions", "Run a workflow action (F12): resubmit, note, query, forward, redirect, "
     "delete, done, send, assign, reopen", "tickets", ACTION_SCHEMA)
async def action(request: web.Request) -> web.Response:
    """Apply the action; the answer is the ticket."""
    item = await run(request, tickets.apply_action, object_id(request), await read_json(request))
    publish(request, EventKind.TICKET_UPDATED, item["tenant_id"], ticket_id=item["id"], state=item["state"])
    return respond(item)


@api("POST", TICKET + "/link", "Link to a master (outage) ticket, or unlink with null (D13)", "tickets",
     tickets.LINK_SCHEMA)
async def link(request: web.Request) -> web.Response:
    """Link."""
    return respond(await run(request, tickets.link, object_id(request), await read_json(request)))


@api("GET", TICKET + "/steps", "Back-office steps of the ticket (F9)", "tickets")
async def list_steps(request: web.Request) -> web.Response:
    """Steps in order."""
    return respond({"items": await run(request, tickets.list_steps, object_id(request)), "next": None})


@api("POST", TICKET + "/steps", "Append a back-office step", "tickets", tickets.STEP_SCHEMA)
async def add_step(request: web.Request) -> web.Response:
    """Append."""
    return respond(await run(request, tickets.add_step, object_id(request), await read_json(request)), 201)


@api("POST", TICKET + r"/steps/{step_id:\d+}/done", "Complete the next open back-office step", "tickets")
async def complete_step(request: web.Request) -> web.Response:
    """Complete."""
    return respond(await run(request, tickets.complete_step, object_id(request), object_id(request, "step_id")))


@api("POST", "/tickets/next", "Take the next work (F15): by skills, level, language, priority, SLA due", "tickets")
async def next_work(request: web.Request) -> web.Response:
    """The claimed ticket, or 204 when nothing fits."""
    item = await run(request, tickets.pick_next)
    if item is None:
        return web.Response(status=204)
    publish(request, EventKind.TICKET_UPDATED, item["tenant_id"], ticket_id=item["id"], owner_id=item["owner_id"])
    return respond(item)
