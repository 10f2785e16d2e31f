"""The external lookup after intake (D3, B2): a new mail, SMS or fax ticket whose sender no local customer has
is put to the tenant's hook, off the intake path; a customer it names is attached to the ticket.

Intake never waits for this: the spool is acknowledged and the ticket written before a ticket is picked up
here, woken by the bus's ticket.created (mail, SMS) or found by the sweep every POLL_S (fax, and whatever a
crash left). Each lookup is bounded by the tenant's timeout; at most CONCURRENCY run at once.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from appliance.bus import Bus, Event, EventKind
from appliance.domain import identify as ident
from appliance.intake import customer_lookup as rows
from appliance.lookup.hooks import HookSettings, external_lookup

log = logging.getLogger(__name__)

POLL_S = 10.0
CONCURRENCY = 4
BATCH = 50


class IntakeLookup:
    """Looks up new tickets' senders in their tenants' external systems, one outcome per ticket."""

    def __init__(self, db: Any, bus: Bus | None = None, metrics: Any = None, poll_s: float = POLL_S) -> None:
        self.db, self.bus, self.metrics, self.poll_s = db, bus, metrics, poll_s
        self.attached = 0
        self.looked_up = 0
        self.last_error = ""
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def run(self) -> None:
        """Sweep at start (what a crash left), then on every new ticket and every poll_s."""
        sub = self.bus.subscribe(EventKind.TICKET_CREATED) if self.bus is not None else None
        listener = asyncio.create_task(self._listen(sub)) if sub is not None else None
        try:
            while True:
                try:
                    await self.sweep()
                    self.last_error = ""
                except Exception as exc:  # noqa: BLE001 - a database hiccup costs one round, not the worker
                    self.last_error = repr(exc)[:200]
                    log.error("intake lookup sweep failed: %r", exc)
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
        finally:
            if listener is not None:
                listener.cancel()
            if sub is not None:
                sub.close()
            for task in list(self._tasks):
                task.cancel()

    async def _listen(self, sub: Any) -> None:
        while True:
            event: Event = await sub.get()
            if event.data.get("channel") in rows.CHANNELS:
                self._wake.set()

    async def sweep(self) -> int:
        """Start a lookup for each waiting ticket not already being looked up; returns how many started."""
        hooks = await self.db.call(rows.hooked_tenants)
        if not hooks:
            return 0
        started = 0
        for candidate in await self.db.call(rows.pending, sorted(hooks), BATCH):
            if candidate.ticket_id in self._in_flight:
                continue
            self._in_flight.add(candidate.ticket_id)
            region, hook = hooks[candidate.tenant_id]
            task = asyncio.create_task(self._one(candidate, region, hook))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def settle(self) -> None:
        """Wait for the lookups under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def _one(self, candidate: rows.Candidate, region: str, hook: HookSettings) -> None:
        try:
            async with self._slots:
                customer_id, detail = await self.lookup(candidate, region, hook)
                attached = await self.db.call(rows.record, candidate, customer_id, detail)
            self.looked_up += 1
            if attached:
                self.attached += 1
                if self.bus is not None:
                    self.bus.publish(Event(EventKind.TICKET_UPDATED, {"ticket_id": candidate.ticket_id,
                                                                      "customer_id": customer_id},
                                           candidate.tenant_id))
                log.info("tenant %s: ticket %s attached to customer %s by the %s lookup", candidate.tenant_id,
                         candidate.ticket_id, customer_id, hook.kind)
        except Exception as exc:  # noqa: BLE001 - left without outcome: the next sweep tries again
            self.last_error = repr(exc)[:200]
            log.error("tenant %s: lookup of ticket %s failed: %r", candidate.tenant_id, candidate.ticket_id, exc)
        finally:
            self._in_flight.discard(candidate.ticket_id)

    async def lookup(self, candidate: rows.Candidate, region: str,
                     hook: HookSettings) -> tuple[int | None, dict[str, Any]]:
        """Ask the local identifiers, then the hook (bounded by its timeout): the customer and what happened."""
        probe = (ident.Probe(email=candidate.sender) if candidate.channel == "mail"
                 else ident.Probe(phone=candidate.sender))

        async def local(kind: str, value: str) -> list[int]:
            return await self.db.call(rows.local_customers, candidate.tenant_id, kind, value)

        found = await ident.identify(probe, region, local, external_lookup(hook), hook.timeout_s)
        detail: dict[str, Any] = {"hook": hook.kind, "sender": candidate.sender, "via": found.via}
        if found.external_error:
            detail["outcome"] = f"failed: {found.external_error}"
        elif found.invalid:
            detail["outcome"] = "sender is no identifier: " + "; ".join(found.invalid.values())
        elif not found.customer_ids:
            detail["outcome"] = "not found"
        elif found.ambiguous:
            # Several customers share the identifier: a person chooses, the lookup does not guess.
            detail.update(outcome="ambiguous", candidates=found.customer_ids[:10])
        else:
            detail.update(outcome="attached", customer_id=found.customer_ids[0])
            if found.external_record:
                detail["external"] = found.external_record
            return found.customer_ids[0], detail
        return None, detail

