"""Ticket hints on the desk socket (issue 6): a new ticket, a change or a customer's message reaches only the desks
that may see it, as a small hint; the page fetches what it shows through the authorised routes."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from appliance.bus import Event, EventKind
from appliance.domain.worknext import NO_LIMITS, WorkLimits

log = logging.getLogger(__name__)
KINDS = (EventKind.TICKET_CREATED, EventKind.TICKET_UPDATED, EventKind.MESSAGE_RECEIVED)
MAX_LISTED = 300  # ticket ids one page may name (its own list, the customer file's open tickets)
MAX_QUEUED = 5000  # queue tickets remembered per tenant, to nudge the count when one leaves the queue
# Data of the publishers passed on to the desks that may see the ticket; nothing else of an event leaves.
PASSED = ("message_id", "channel", "reason", "escalation_level")


@dataclass
class Desk:
    """One desk socket: whose it is, the work-queue limits of their teams and the tickets its page lists."""

    user_id: int
    tenant_id: int
    limits: WorkLimits = NO_LIMITS
    listed: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Facts:
    """What the filter needs of one ticket, read once per event."""

    owner_id: int | None
    mailbox_id: int | None
    sender: str
    state: str = "open"

    @property
    def queued(self) -> bool:
        """Whether the ticket waits in the universal queue (open, nobody's)."""
        return self.owner_id is None and self.state == "open"


class Hint:
    """A ready websocket message in the shape the socket's pump expects (an `event` and its `text()`)."""

    __slots__ = ("event", "_text")

    def __init__(self, event: Event, text: str) -> None:
        self.event, self._text = event, text

    def text(self) -> str:
        """The message."""
        return self._text


def ticket_facts(tenant_id: int, ticket_id: int, message_id: Any) -> Facts | None:
    """The ticket's owner and mailbox, and who wrote the message the event names (sync, database thread)."""
    from appliance.models import Message, Ticket
    row = (Ticket.select(Ticket.owner, Ticket.mailbox, Ticket.state)
           .where((Ticket.id == ticket_id) & (Ticket.tenant == tenant_id)).tuples().first())
    if row is None:
        return None
    q = Message.select(Message.sender).where((Message.ticket == ticket_id) & (Message.tenant == tenant_id))
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        q = q.where(Message.id == message_id)
    else:
        q = q.where(Message.direction == "in").order_by(Message.id.desc())
    sender = q.scalar() or ""
    return Facts(row[0], row[1], sender, row[2])


def desk_view(user_id: int, tenant_id: int, remote: str, ids: list[int]) -> tuple[WorkLimits, frozenset[int]]:
    """The user's work-queue limits and, of the ids the page names, the tickets the user may see (sync)."""
    from appliance.models import Ticket
    from appliance.models.access import Scope, load_actor
    from appliance.models.access.tickets import agent_limits
    listed: frozenset[int] = frozenset()
    if ids:
        scope = Scope(load_actor(user_id, remote))
        listed = frozenset(i for (i,) in scope.query(Ticket, Ticket.id).where(Ticket.id.in_(ids)).tuples())
    return agent_limits(tenant_id, user_id), listed


class TicketHints:
    """One bus subscription for the ticket events of every desk socket; its own task, so a database read for a
    ticket never delays the hub's call events and screen pops."""

    def __init__(self, bus, db, watching: dict[asyncio.Queue, tuple[int, int]]) -> None:
        self.bus, self.db, self.watching = bus, db, watching
        self.desks: dict[asyncio.Queue, Desk] = {}
        self.by_tenant: dict[int, set[asyncio.Queue]] = {}
        self.queued: dict[int, dict[int, None]] = {}  # tenant -> queue tickets seen (insertion-ordered, bounded)
        self.task: asyncio.Task | None = None
        self.sent = 0

    def join(self, queue: asyncio.Queue, user_id: int, tenant_id: int) -> None:
        """A desk socket of a tenant's user opened."""
        self.desks[queue] = Desk(user_id, tenant_id)
        self.by_tenant.setdefault(tenant_id, set()).add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="live-ticket-hints")

    def leave(self, queue: asyncio.Queue) -> None:
        """A desk socket closed."""
        desk = self.desks.pop(queue, None)
        if desk is None:
            return
        mine = self.by_tenant.get(desk.tenant_id, set())
        mine.discard(queue)
        if not mine:
            self.by_tenant.pop(desk.tenant_id, None)
        if not self.desks and self.task is not None:
            self.task.cancel()
            self.task = None

    async def refresh(self, queue: asyncio.Queue, remote: str, ids: Any) -> None:
        """The page lists these tickets now: their events reach it even once they are no longer its own."""
        desk = self.desks.get(queue)
        if desk is None:
            return
        clean = [i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**62][:MAX_LISTED] \
            if isinstance(ids, list) else []
        desk.limits, desk.listed = await self.db.call(desk_view, desk.user_id, desk.tenant_id, remote, clean)

    def queue_changed(self, tenant_id: int, ticket_id: int, facts: Facts) -> bool:
        """Whether the universal queue's count may have changed: the ticket waits in it, or waited in it when
        last heard of (a ticket queued before this process started is missed: the page's poll catches that)."""
        seen = self.queued.setdefault(tenant_id, {})
        if facts.queued:
            seen.pop(ticket_id, None)
            seen[ticket_id] = None
            if len(seen) > MAX_QUEUED:
                del seen[next(iter(seen))]
            return True
        if ticket_id in seen:
            del seen[ticket_id]
            return True
        return False

    def targets(self, event: Event, facts: Facts) -> dict[asyncio.Queue, str]:
        """Which sockets get which hint: the full one where the ticket is the user's, listed or shown; a bare
        "the work queue changed" where only the queue count concerns them; nothing elsewhere (a colleague's
        own ticket wakes no other desk)."""
        ticket_id = event.data.get("ticket_id")
        in_queue = self.queue_changed(event.tenant_id, ticket_id, facts)
        base = {"kind": event.kind.value, "ticket_id": ticket_id}
        base.update({k: event.data[k] for k in PASSED if k in event.data})
        if "customer_id" in event.data:
            base["attached"] = event.data["customer_id"] is not None
        texts: dict[str, str] = {}

        actor = event.data.get("by_user_id")

        def text(variant: str) -> str:
            if variant not in texts:
                if variant == "queue":
                    data: dict[str, Any] = {"kind": event.kind.value, "queue": True}
                else:
                    data = {**base, "mine": variant.startswith("mine"), "queue": in_queue, "from": facts.sender}
                    if variant.endswith("-self"):
                        data["own_doing"] = True  # the user's own action: their lists follow, no notice
                texts[variant] = json.dumps({"type": "ticket", "data": data}, ensure_ascii=False, default=str)
            return texts[variant]

        out: dict[asyncio.Queue, str] = {}
        key = (event.tenant_id, ticket_id)
        for queue in self.by_tenant.get(event.tenant_id, ()):
            desk = self.desks[queue]
            own = "-self" if actor == desk.user_id else ""
            if facts.owner_id == desk.user_id:
                out[queue] = text("mine" + own)
            elif ticket_id in desk.listed or self.watching.get(queue) == key:
                out[queue] = text("seen" + own)
            elif in_queue and (desk.limits.mailboxes is None or facts.mailbox_id is None
                               or facts.mailbox_id in desk.limits.mailboxes):
                out[queue] = text("queue")
        return out

    async def _run(self) -> None:
        sub = self.bus.subscribe(*KINDS, maxsize=10000)
        try:
            while True:
                event = await sub.get()
                ticket_id = event.data.get("ticket_id")
                if event.tenant_id is None or not self.by_tenant.get(event.tenant_id) or not isinstance(ticket_id, int):
                    continue  # no desk of that tenant is open: no read at all
                try:
                    facts = await self.db.call(ticket_facts, event.tenant_id, ticket_id, event.data.get("message_id"))
                except Exception as exc:  # noqa: BLE001 - one unreadable event must not end the hints
                    log.error("ticket hint for %s failed: %r", ticket_id, exc)
                    continue
                if facts is None:
                    continue
                for queue, text in self.targets(event, facts).items():
                    try:
                        queue.put_nowait(Hint(event, text))
                        self.sent += 1
                    except asyncio.QueueFull:
                        pass  # the page catches up on its next list refresh
        finally:
            sub.close()
