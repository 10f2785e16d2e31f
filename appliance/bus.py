"""Typed in-process events. Publishers never wait for subscribers; a slow subscriber loses nothing
but delays only itself (each subscription has its own queue)."""
from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


class EventKind(str, enum.Enum):
    """Every event name on the bus. Add members here, never free strings."""

    SERVICE_STATE = "service.state"
    CALL_QUEUED = "call.queued"
    CALL_OFFERED = "call.offered"
    OFFER_WITHDRAWN = "call.offer_withdrawn"
    CALL_REQUEUED = "call.requeued"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALL_ABANDONED = "call.abandoned"
    CALL_OVERFLOWED = "call.overflowed"
    CALLBACK_REQUESTED = "call.callback_requested"
    CALL_TRANSFERRED = "call.transferred"
    CALL_PARTIES = "call.parties"
    CALL_RECORDED = "call.recorded"
    ROUTING_DECISION = "acd.decision"
    AGENT_STATE = "agent.state"
    QUEUE_STATS = "queue.stats"
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    MESSAGE_RECEIVED = "message.received"
    QUARANTINED = "intake.quarantined"
    HARDWARE_STATE = "hardware.state"
    SNMP_RECEIVERS_CHANGED = "snmp.receivers_changed"
    FAX_STATUS = "fax.status"  # an outgoing fax changed state or page; data: ticket_id, fax (the desk's view)
    SMS_STATUS = "sms.status"  # an outgoing SMS of a ticket got a delivery report; data: ticket_id, sms


@dataclass(frozen=True)
class Event:
    """One event: its kind, a payload of plain data, and the tenant it belongs to (None: system)."""

    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)
    tenant_id: int | None = None


class Subscription:
    """A queue of the events one subscriber asked for."""

    def __init__(self, bus: "Bus", kinds: frozenset[EventKind] | None, maxsize: int) -> None:
        self._bus, self.kinds = bus, kinds
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    async def get(self) -> Event:
        """The next event."""
        return await self.queue.get()

    def close(self) -> None:
        """Stop receiving."""
        self._bus._subs.discard(self)


class Bus:
    """Fan-out of events to subscriptions."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self.published = 0

    def subscribe(self, *kinds: EventKind, maxsize: int = 10000) -> Subscription:
        """Subscribe to some kinds (none: all)."""
        sub = Subscription(self, frozenset(kinds) or None, maxsize)
        self._subs.add(sub)
        return sub

    def publish(self, event: Event) -> None:
        """Deliver to every matching subscription without waiting."""
        self.published += 1
        for sub in list(self._subs):
            if sub.kinds is None or event.kind in sub.kinds:
                try:
                    sub.queue.put_nowait(event)
                except asyncio.QueueFull:
                    # A stuck subscriber (a dead browser tab) must not stall the publisher.
                    sub.dropped += 1
                    if sub.dropped in (1, 100, 10000):
                        log.warning("bus subscriber full kind=%s dropped=%d", event.kind.value, sub.dropped)
