"""Live pages: the wallboard (B16, B4, G2) and the websocket that pushes snapshots and screen pops."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import WSMsgType, web

from appliance.bus import EventKind
from appliance.pbx.setup import human_agent_id
from appliance.webui.keys import BUS, USER
from appliance.webui.routes_acd import LEADS, STAFF, filtered_snapshot
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


@routes.get("/ws")
@require_role(*STAFF)
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """One socket per browser tab: wallboard snapshots, and for agents their offers and state changes."""
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=64 * 1024)
    await ws.prepare(request)
    user = request[USER]
    me = human_agent_id(user.id)
    lead = user.role in LEADS
    sub = request.app[BUS].subscribe(*PUSHED, maxsize=1000)

    async def pump() -> None:
        while True:
            event = await sub.get()
            if event.kind is EventKind.QUEUE_STATS:
                try:
                    payload = {"type": "snapshot", "data": filtered_snapshot(request)}
                except web.HTTPException:
                    continue
            elif event.kind is EventKind.ROUTING_DECISION:
                if not lead:
                    continue
                payload = {"type": "decision", "data": event.data}
            elif event.data.get("agent_id") == me:
                payload = {"type": event.kind.value, "data": event.data}
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
