"""Live pages: the wallboard (B16, B4, G2) and the websocket that pushes snapshots and screen pops."""
from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any, Callable

import aiohttp_jinja2
from aiohttp import WSMsgType, web

from appliance.bus import Event, EventKind
from appliance.domain.errors import Forbidden, NotFound
from appliance.pbx.setup import human_agent_id
from appliance.webui import locale
from appliance.webui.keys import BUS, DB, USER
from appliance.webui.live_tickets import TicketHints
from appliance.webui.locale import N_
from appliance.webui.routes_acd import LEADS, STAFF, bridge_of, visible_queues
from appliance.webui.routes_desk import pop_for
from appliance.webui.security import csrf_token, require_role

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
DESK_EVERY = 3  # desk sockets get every third queue snapshot (the wallboard every one)
FAN_OUT_SLICE = 32  # sockets woken per pass of the event loop (each sends one frame through TLS)
PUSHED = (EventKind.QUEUE_STATS, EventKind.CALL_OFFERED, EventKind.OFFER_WITHDRAWN, EventKind.CALL_ANSWERED,
          EventKind.CALL_ENDED, EventKind.CALL_ABANDONED, EventKind.AGENT_STATE, EventKind.ROUTING_DECISION,
          EventKind.CALL_TRANSFERRED, EventKind.CALL_PARTIES,  # these two: consultation and three-way (B12)
          EventKind.FAX_STATUS,  # an outgoing fax of a ticket changed state (the desk's ticket view)
          EventKind.SMS_STATUS)  # an outgoing SMS of a ticket got a delivery report (the same view)


# Strings wallboard.js shows, translated into the page's data attribute (no inline script under the CSP). An agent's
# state is shown by the legend's words: ready is "free", reserved (an offer ringing) counts as busy.
WALLBOARD_STRINGS = (
    N_("No queues are configured for you yet."), N_("waiting"), N_("offered"), N_("answered"), N_("abandoned"),
    N_("SL"), N_("avg wait"), N_("longest"), N_("Today"), N_("Last 15 min"), N_("unknown"), N_("callback"),
    N_("nobody waiting"), N_("No agent is logged in."), N_("ext."), N_("free"), N_("busy"), N_("ringing"),
    N_("paused"), N_("wrap-up"), N_("live"), N_("reconnecting…"),
)


@routes.get("/wallboard")
@require_role(*STAFF)
@aiohttp_jinja2.template("wallboard.html")
async def wallboard(request: web.Request) -> dict[str, Any]:
    """Queues, waiting calls and agents, live; `?compact=1` for a wall screen."""
    user = request[USER]
    return {"user": user, "csrf": await csrf_token(request), "section": "wallboard",
            "compact": request.query.get("compact") == "1", "lead": user.role in LEADS,
            "strings_json": json.dumps(locale.strings(WALLBOARD_STRINGS), ensure_ascii=False)}


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


class Outgoing:
    """One bus event on its way to the sockets: its JSON text made once, however many sockets get it."""

    __slots__ = ("event", "_text")

    def __init__(self, event: Event) -> None:
        self.event, self._text = event, None

    def text(self) -> str:
        """The websocket message for every socket that receives this event unchanged."""
        if self._text is None:
            kind = "decision" if self.event.kind is EventKind.ROUTING_DECISION else self.event.kind.value
            self._text = json.dumps({"type": kind, "data": self.event.data}, default=str)
        return self._text


class LiveHub:
    """One bus subscription for every socket of the app: snapshots go to all (their JSON built once per view),
    an agent's events only to that agent's sockets, routing decisions to leads, a ticket's events (fax states)
    to the sockets showing that ticket. Per-socket subscriptions would wake every socket for every call event of
    every agent (hundreds of agents: a stalled loop)."""

    def __init__(self, bus) -> None:
        self.bus = bus
        self.clients: set[asyncio.Queue] = set()
        self.by_agent: dict[str, set[asyncio.Queue]] = {}
        self.leads: set[asyncio.Queue] = set()
        self.desk_clients: dict[asyncio.Queue, int] = {}
        self.by_ticket: dict[tuple[int, int], set[asyncio.Queue]] = {}  # (tenant, ticket) -> its viewers
        self.watching: dict[asyncio.Queue, tuple[int, int]] = {}
        self.task: asyncio.Task | None = None
        self.ticks = 0

    def join(self, agent_id: str, lead: bool, desk: bool) -> asyncio.Queue:
        """A new socket's queue of events."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self.clients.add(queue)
        self.by_agent.setdefault(agent_id, set()).add(queue)
        if lead:
            self.leads.add(queue)
        if desk:
            self.desk_clients[queue] = len(self.desk_clients)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="live-hub")
        return queue

    def watch(self, queue: asyncio.Queue, tenant_id: int | None, ticket_id: int | None) -> None:
        """The socket shows this ticket now (None: no ticket); the caller has checked the user may see it."""
        old = self.watching.pop(queue, None)
        if old is not None:
            viewers = self.by_ticket.get(old, set())
            viewers.discard(queue)
            if not viewers:
                self.by_ticket.pop(old, None)
        if tenant_id is not None and ticket_id is not None:
            self.watching[queue] = (tenant_id, ticket_id)
            self.by_ticket.setdefault((tenant_id, ticket_id), set()).add(queue)

    def leave(self, agent_id: str, queue: asyncio.Queue) -> None:
        """A socket closed."""
        self.watch(queue, None, None)
        self.clients.discard(queue)
        self.leads.discard(queue)
        self.desk_clients.pop(queue, None)
        mine = self.by_agent.get(agent_id)
        if mine is not None:
            mine.discard(queue)
            if not mine:
                del self.by_agent[agent_id]
        if not self.clients and self.task is not None:
            self.task.cancel()
            self.task = None

    @staticmethod
    def _put(queue: asyncio.Queue, item: Any) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            pass  # a socket that cannot keep up loses snapshots, never blocks the others

    def _targets(self, event: Event) -> list[asyncio.Queue]:
        if event.kind is EventKind.QUEUE_STATS:
            self.ticks += 1
            # The desk shows queue counts only: each desk socket gets every DESK_EVERY-th snapshot, spread over
            # the sockets so no second carries all of them.
            return [queue for queue in self.clients if (slot := self.desk_clients.get(queue)) is None
                    or (slot + self.ticks) % DESK_EVERY == 0]
        if event.kind is EventKind.ROUTING_DECISION:
            return list(self.leads)
        if event.kind in (EventKind.FAX_STATUS, EventKind.SMS_STATUS):
            # Only the viewers of this ticket in the event's own tenant: a ticket id alone crosses no tenant.
            if event.tenant_id is None:
                return []
            return list(self.by_ticket.get((event.tenant_id, event.data.get("ticket_id")), ()))
        return list(self.by_agent.get(event.data.get("agent_id"), ()))

    async def _run(self) -> None:
        sub = self.bus.subscribe(*PUSHED, maxsize=10000)
        try:
            while True:
                event = await sub.get()
                item = Outgoing(event)
                targets = self._targets(event)
                for start in range(0, len(targets), FAN_OUT_SLICE):
                    if start:
                        # Every socket woken here sends in the loop's next pass; hundreds in one pass would hold
                        # the loop for milliseconds, so the next slice waits for the pass after.
                        await asyncio.sleep(0)
                    for queue in targets[start:start + FAN_OUT_SLICE]:
                        self._put(queue, item)
        finally:
            sub.close()


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


_LIVE: "weakref.WeakKeyDictionary[web.Application, tuple[LiveHub, SnapshotCache]]" = weakref.WeakKeyDictionary()
_HINTS: "weakref.WeakKeyDictionary[web.Application, TicketHints]" = weakref.WeakKeyDictionary()


def _live(app: web.Application) -> tuple[LiveHub, SnapshotCache]:
    # Kept beside the app rather than in it: a running aiohttp app is frozen.
    if app not in _LIVE:
        _LIVE[app] = (LiveHub(app[BUS]), SnapshotCache())
    return _LIVE[app]


def ticket_hints(app: web.Application) -> TicketHints:
    """The app's ticket hints for desk sockets (their filter knows which ticket each desk shows)."""
    if app not in _HINTS:
        _HINTS[app] = TicketHints(app[BUS], app[DB], _live(app)[0].watching)
    return _HINTS[app]


@routes.get("/ws")
@require_role(*STAFF)
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """One socket per browser tab: wallboard snapshots (`?view=desk`: the desk's slim one), and for agents
    their offers (with the screen pop's customer file) and state changes; the desk names the ticket it shows
    and gets that ticket's fax states."""
    # No per-message deflate: hundreds of desks on a LAN cost more CPU compressing than they save.
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=64 * 1024, compress=False)
    await ws.prepare(request)
    user = request[USER]
    me = human_agent_id(user.id)
    lead = user.role in LEADS
    desk = request.query.get("view") == "desk"
    hub, cache = _live(request.app)
    events = hub.join(me, lead, desk)
    hints = ticket_hints(request.app)
    if desk and getattr(user, "tenant_id", None) is not None:
        hints.join(events, user.id, user.tenant_id)  # a tenant's desk gets hints of its tickets (issue 6)
    scope_key = (desk, user.role == "admin" and getattr(user, "tenant_id", None) is None,
                 getattr(user, "tenant_id", None))

    async def pump() -> None:
        while True:
            item = await events.get()
            event = item.event
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
            elif event.kind is EventKind.CALL_OFFERED:
                # The screen pop travels with the offer: the desk opens the customer file at once (D5).
                pop = await request.app[DB].call(pop_for, user.id, event.data)
                text = json.dumps({"type": event.kind.value, "data": {**event.data, "pop": pop}}, default=str)
            else:
                text = item.text()
            await ws.send_str(text)

    pump_task = asyncio.create_task(pump())
    try:
        if events in hints.desks:
            await hints.refresh(events, request.remote or "", [])
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                await ws.send_str('{"type": "pong"}')
            elif msg.type == WSMsgType.TEXT:
                await _listen(request, hub, events, msg.data)
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        pump_task.cancel()
        hints.leave(events)
        hub.leave(me, events)
    return ws


async def _listen(request: web.Request, hub: LiveHub, events: asyncio.Queue, text: str) -> None:
    """A message from the page: `{"watch": "ticket", "id": N}` (N null: none) names the ticket it shows, whose
    events (fax states) it then receives; `{"watch": "list", "ids": [...]}` the tickets it lists; only tickets
    the user may see through the scoped accessor count."""
    try:
        message = json.loads(text)
    except ValueError:
        return
    if isinstance(message, dict) and message.get("watch") == "list":
        # The desk's lists (its own tickets, the customer file's): their hints reach it even once not its own.
        await ticket_hints(request.app).refresh(events, request.remote or "", message.get("ids"))
        return
    if not isinstance(message, dict) or message.get("watch") != "ticket":
        return
    ticket_id = message.get("id")
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        hub.watch(events, None, None)
        return
    user, remote = request[USER], request.remote or ""

    def tenant_of() -> int | None:
        from appliance.models import Ticket
        from appliance.models.access import Scope, load_actor
        try:
            return Scope(load_actor(user.id, remote)).get(Ticket, ticket_id).tenant_id
        except (NotFound, Forbidden):
            return None
    tenant_id = await request.app[DB].call(tenant_of)
    hub.watch(events, tenant_id, ticket_id if tenant_id is not None else None)
