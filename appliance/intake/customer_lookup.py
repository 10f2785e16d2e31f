"""The database half of the external lookup after intake (D3, B2): which new mail, SMS and fax tickets still
wait for it, and recording its outcome. Synchronous: run with Database.call, inside its transaction.

A ticket is looked up at most once: the outcome (found, not found, failed) is one audit entry, written in the
same transaction as the customer. A crash before that entry leaves the ticket to be looked up again; the
customer is set only where none is, so it is never attached twice nor over a person's choice.
"""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import peewee

from appliance.lookup.hooks import HookSettings, settings_of
from appliance.models import AuditEntry, Customer, CustomerIdentifier, Message, Tenant, Ticket
from appliance.models.auth import utcnow

CHANNELS = ("mail", "sms", "fax")  # calls are identified by the PBX bridge while they ring
LOOKBACK = datetime.timedelta(days=1)  # after a long outage, older tickets are left to people
ACTION = "ticket.customer_lookup"
# Spam is filed as pending (intake.tickets): a flood of it must not become a flood of CRM questions.
SKIPPED_STATES = ("pending", "deleted")
ACTOR = "external lookup"


@dataclass(frozen=True)
class Candidate:
    """A new ticket without customer whose tenant has a hook: what to ask it."""

    ticket_id: int
    tenant_id: int
    channel: str
    sender: str


def hooked_tenants() -> dict[int, tuple[str, HookSettings]]:
    """Active tenants with an HTTP or SQL hook: id → (phone region, hook settings)."""
    rows = Tenant.select().where((Tenant.active == True) & ((Tenant.lookup_url != "")  # noqa: E712
                                                             | (Tenant.lookup_sql_dsn != "")))
    found = {t.id: (t.region, settings_of(t)) for t in rows}
    return {tid: pair for tid, pair in found.items() if pair[1].kind != "none"}


def pending(tenant_ids: list[int], limit: int = 50, now: datetime.datetime | None = None,
            ticket_ids: list[int] | None = None) -> list[Candidate]:
    """Tickets of these tenants' mail, SMS and fax without customer and without a lookup outcome yet."""
    if not tenant_ids:
        return []
    since = (now or utcnow()) - LOOKBACK
    audit = AuditEntry.alias("looked_up")
    # Bounded by the audit index (tenant, at): an outcome is never older than its ticket.
    done = audit.select(audit.id).where(
        (audit.tenant == Ticket.tenant) & (audit.at >= Ticket.created_at) & (audit.action == ACTION)
        & (audit.object_type == "ticket") & (audit.object_id == Ticket.id))
    q = (Ticket.select(Ticket.id, Ticket.tenant, Ticket.channel)
         .where(Ticket.tenant.in_(tenant_ids) & Ticket.customer.is_null() & Ticket.channel.in_(CHANNELS)
                & (Ticket.created_at >= since) & Ticket.state.not_in(SKIPPED_STATES) & ~peewee.fn.EXISTS(done)))
    if ticket_ids is not None:
        q = q.where(Ticket.id.in_(ticket_ids))
    out = []
    for ticket in q.order_by(Ticket.id).limit(limit):
        first = (Message.select(Message.sender)
                 .where((Message.ticket == ticket.id) & (Message.tenant == ticket.tenant_id)
                        & (Message.direction == "in"))
                 .order_by(Message.id).first())
        out.append(Candidate(ticket.id, ticket.tenant_id, ticket.channel, first.sender if first else ""))
    return out


def local_customers(tenant_id: int, kind: str, value: str) -> list[int]:
    """Active customers of the tenant with this normalised identifier (the system's view, no ownership)."""
    rows = (CustomerIdentifier.select(CustomerIdentifier.customer).join(Customer)
            .where((CustomerIdentifier.tenant == tenant_id) & (Customer.tenant == tenant_id)
                   & (CustomerIdentifier.kind == kind) & (CustomerIdentifier.value == value)
                   & (Customer.active == True)))  # noqa: E712
    return sorted({r.customer_id for r in rows})


def record(candidate: Candidate, customer_id: int | None, detail: dict[str, Any]) -> bool:
    """Attach the customer where the ticket has none and write the outcome; True when it was attached.

    A second outcome for the same ticket (the event and the sweep raced) writes nothing.
    """
    if AuditEntry.select().where((AuditEntry.tenant == candidate.tenant_id) & (AuditEntry.action == ACTION)
                                 & (AuditEntry.object_type == "ticket")
                                 & (AuditEntry.object_id == candidate.ticket_id)).exists():
        return False
    attached = False
    if customer_id is not None:
        attached = Ticket.update(customer=customer_id, updated_at=utcnow()).where(
            (Ticket.id == candidate.ticket_id) & (Ticket.tenant == candidate.tenant_id)
            & Ticket.customer.is_null()).execute() == 1
        if not attached:
            detail = {**detail, "outcome": "ticket already has a customer"}
    AuditEntry.create(tenant=candidate.tenant_id, user=None, username=ACTOR, action=ACTION, object_type="ticket",
                      object_id=candidate.ticket_id, detail=json.dumps(detail, default=str)[:20000])
    return attached
