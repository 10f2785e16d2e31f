"""Live pages: the wallboard (B16, B4, G2) and the websocket that pushes snapshots and screen pops."""
from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any, Callable

import aiohttp_jinja2
from aiohttp import WSMsgType, web

from appliance.bus import EventKind
from appliance.pbx.setup import human_agent_id
from appliance.webui.keys import BUS, DB, USER
from appliance.webui.routes_acd import LEADS, STAFF, bridge_of, visible_queues
from appliance.webui.routes_desk import pop_for
from appliance.webui.security import csrf_token, require_role

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
PUSHED = (EventKind.QUEUE_STATS, EventKind.CALL_OFFERED, EventKind.OFFER_WITHDRAWN, EventKind.CALL_ANSWERED,
          EventKind.CALL_ENDED, EventKind.CALL_ABANDONED, EventKind.AGENT_STATE, EventKind.ROUTING_DECISION)


@routes.get("/wallboard")
@require_role(*STAFF)
@aiohttp_jinja2.template("wallboard.html")
async def wallboard(request: web.Request) -> dict[str, Any]:
    """Queues, waiting calls and agents, live; `?compact=1` for a wall screen."""
    user = request[USER]
    return {"user": user, "csrf": await csrf_token(request), "section": "wallboard",
            "compact": request.query.get("compact") == "1", "lead": user.role in LEADS}


def wallboard_snapshot(request: web.Request, snap: dict[str, Any]) -> dict[str, Any]:
    """The bridge's published snapshot limited to what this user may see (as GET /api/v1/acd/snapshot)."""
    service, _ = bridge_of(request)
    allowed = visible_queues(request, service)
    out = dict(snap)
    if allowed is not None:
        out["queues"] = [q for q in snap["queues"] if q["id"] in allowed]
    out["demo"] = bool(service.setup and service.setup.demo)
    return out


def desk_snapshot(request: web.Request, snap: dict[str, Any]) -> dict[str, Any]:
    """What the desk shows of the ACD: its queues' waiting calls and staffing, no agent list."""
    service, _ = bridge_of(request)
    allowed = visible_queues(request, service)
    return {"queues": [{k: q[k] for k in ("id", "name", "waiting", "longest_wait_s", "agents_free",
                                          "agents_logged_in")}
                       for q in snap["queues"] if allowed is None or q["id"] in allowed]}


class SnapshotCache:
    """One serialised snapshot per bridge update and view, shared by every socket that sees the same."""

    def __init__(self) -> None:
        self.snapshot: dict[str, Any] | None = None
        self.texts: dict[Any, str] = {}

    def text(self, snap: dict[str, Any], key: Any, build: Callable[[], dict[str, Any]]) -> str:
        """The JSON text for this snapshot and key, built once."""
        if self.snapshot is not snap:
            self.snapshot, self.texts = snap, {}
        if key not in self.texts:
            self.texts[key] = json.dumps(build(), default=str)
        return self.texts[key]


_CACHES: "weakref.WeakKeyDictionary[web.Application, SnapshotCache]" = weakref.WeakKeyDictionary()


def _cache(app: web.Application) -> SnapshotCache:
    # Kept beside the app rather than in it: a running aiohttp app is frozen.
    return _CACHES.setdefault(app, SnapshotCache())


@routes.get("/ws")
@require_role(*STAFF)
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """One socket per browser tab: wallboard snapshots (`?view=desk`: the desk's slim one), and for agents
    their offers (with the screen pop's customer file) and state changes."""
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=64 * 1024)
    await ws.prepare(request)
    user = request[USER]
    me = human_agent_id(user.id)
    lead = user.role in LEADS
    desk = request.query.get("view") == "desk"
    sub = request.app[BUS].subscribe(*PUSHED, maxsize=1000)
    cache = _cache(request.app)
    scope_key = (desk, user.role == "admin" and getattr(user, "tenant_id", None) is None,
                 getattr(user, "tenant_id", None))

    async def pump() -> None:
        while True:
            event = await sub.get()
            if event.kind is EventKind.QUEUE_STATS:
                try:
                    if desk:
                        text = cache.text(event.data, scope_key, lambda: {
                            "type": "snapshot", "data": desk_snapshot(request, event.data)})
                    else:
                        text = cache.text(event.data, scope_key, lambda: {
                            "type": "snapshot", "data": wallboard_snapshot(request, event.data)})
                except web.HTTPException:
                    continue
                await ws.send_str(text)
                continue
            if event.kind is EventKind.ROUTING_DECISION:
                if not lead:
                    continue
                payload = {"type": "decision", "data": event.data}
            elif event.data.get("agent_id") == me:
                payload = {"type": event.kind.value, "data": event.data}
                if event.kind is EventKind.CALL_OFFERED:
                    # The screen pop travels with the offer: the desk opens the customer file at once (D5).
                    payload["data"] = {**event.data,
                                       "pop": await request.app[DB].call(pop_for, user.id, event.data)}
            else:
                continue
            await ws.send_str(json.dumps(payload, default=str))

    pump_task = asyncio.create_task(pump())
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str('{"type": "pong"}')
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        pump_task.cancel()
        sub.close()
    return ws
