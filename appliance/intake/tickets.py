"""The sink bound to the ticket models: find or open the ticket, identify the customer, add the message."""
from __future__ import annotations

import datetime

from appliance.intake.sink import Delivery, InboundMessage
from appliance.models import Customer, CustomerIdentifier, Message, Ticket
from appliance.models.auth import utcnow

DEFAULT_RESOLVE = datetime.timedelta(days=5)  # until an SLA policy applies (the domain core sets it)
SUBJECT_MAX = 300
REOPEN_STATES = ("closed", "done")


def identify_customer(tenant_id: int, channel: str, sender: str) -> int | None:
    """The customer whose identifier matches the sender, in this tenant only."""
    if not sender:
        return None
    kind = "email" if channel == "mail" else "phone"
    row = (CustomerIdentifier.select(CustomerIdentifier.customer)
           .join(Customer)
           .where(CustomerIdentifier.tenant == tenant_id, CustomerIdentifier.kind == kind,
                  CustomerIdentifier.value == sender.lower(), Customer.active == True)  # noqa: E712
           .first())
    return row.customer_id if row else None


class ModelTicketSink:
    """TicketSink writing Ticket and Message rows; must be called inside a transaction."""

    def deliver(self, msg: InboundMessage) -> Delivery:
        """Attach or open; a known idempotency key returns the earlier result and writes nothing."""
        known = (Message.select(Message.id, Message.ticket)
                 .where(Message.tenant == msg.tenant_id, Message.idempotency_key == msg.idempotency_key)
                 .first())
        if known:
            return Delivery(known.ticket_id, known.id, False, True)
        now = utcnow()
        ticket = None
        if msg.ticket_id is not None:
            # The tenant filter is what stops a forged ticket number of another tenant attaching.
            ticket = Ticket.get_or_none((Ticket.id == msg.ticket_id) & (Ticket.tenant == msg.tenant_id))
        created = ticket is None
        if ticket is None:
            ticket = Ticket.create(tenant=msg.tenant_id, subject=msg.subject[:SUBJECT_MAX], channel=msg.channel,
                                   state=msg.new_ticket_state, mailbox=msg.mailbox_id,
                                   customer=identify_customer(msg.tenant_id, msg.channel, msg.sender),
                                   due_at=now + DEFAULT_RESOLVE, created_at=now, updated_at=now)
        else:
            changes = {Ticket.updated_at: now}
            if ticket.state in REOPEN_STATES:
                changes[Ticket.state] = "open"  # a customer's answer reopens the case
                changes[Ticket.closed_at] = None
            Ticket.update(changes).where(Ticket.id == ticket.id).execute()
        message = Message.create(tenant=msg.tenant_id, ticket=ticket.id, channel=msg.channel, direction="in",
                                 kind=msg.kind, sender=msg.sender[:254], recipient=msg.recipient[:254],
                                 subject=msg.subject[:SUBJECT_MAX], body=msg.body, source_ref=msg.source_ref[:300],
                                 idempotency_key=msg.idempotency_key, created_at=now)
        return Delivery(ticket.id, message.id, created, False)
