"""The sink bound to the domain core's ticket model: find or open the ticket, identify the customer,
add the message. Same rules as `models.access.tickets.add_message` (which needs a logged-in actor):
idempotency key unique per tenant, an inbound answer brings a pending ticket back to work."""
from __future__ import annotations

import json

from appliance.domain import sla
from appliance.intake.sink import Delivery, InboundMessage
from appliance.models import Customer, CustomerIdentifier, Mailbox, Message, Ticket
from appliance.models.auth import utcnow

SUBJECT_MAX = 300
REOPEN_STATES = ("done",)                       # workflow.STATES: an answer reopens a finished case
BACK_TO_WORK_STATES = ("pending", "resubmission")
SPAM_FOLDER = "Spam"


def identify_customer(tenant_id: int, channel: str, sender: str) -> int | None:
    """The customer whose identifier matches the sender, in this tenant only (first of several)."""
    if not sender:
        return None
    kind = "email" if channel == "mail" else "phone"
    row = (CustomerIdentifier.select(CustomerIdentifier.customer)
           .join(Customer)
           .where(CustomerIdentifier.tenant == tenant_id, CustomerIdentifier.kind == kind,
                  CustomerIdentifier.value == sender.lower(), Customer.active == True)  # noqa: E712
           .order_by(CustomerIdentifier.id).first())
    return row.customer_id if row else None


def spam_folder(tenant_id: int, mailbox_id: int | None) -> int:
    """The spam folder of a mailbox: a child mailbox named "Spam", made on first use."""
    parent = Mailbox.get_or_none((Mailbox.id == mailbox_id) & (Mailbox.tenant == tenant_id)) if mailbox_id else None
    name = f"{parent.name} / {SPAM_FOLDER}" if parent else SPAM_FOLDER
    folder = Mailbox.get_or_none((Mailbox.tenant == tenant_id) & (Mailbox.name == name))
    if folder is None:
        folder = Mailbox.create(tenant=tenant_id, parent=parent.id if parent else None, name=name,
                                settings=json.dumps({"spam_folder": True}))
    return folder.id


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
            ticket = Ticket.get_or_none((Ticket.id == msg.ticket_id) & (Ticket.tenant == msg.tenant_id)
                                        & (Ticket.state != "deleted"))
        created = ticket is None
        if ticket is None:
            spam = msg.new_ticket_state == "spam"
            _, due = sla.ticket_due_times(now, None, None, None)
            # Spam is filed, not worked: "pending" keeps it out of the work queue until a person looks.
            ticket = Ticket.create(tenant=msg.tenant_id, subject=msg.subject[:SUBJECT_MAX], channel=msg.channel,
                                   state="pending" if spam else "open",
                                   mailbox=spam_folder(msg.tenant_id, msg.mailbox_id) if spam else msg.mailbox_id,
                                   customer=identify_customer(msg.tenant_id, msg.channel, msg.sender),
                                   due_at=due, created_at=now, updated_at=now)
        else:
            changes = {Ticket.updated_at: now}
            if ticket.state in REOPEN_STATES or ticket.state in BACK_TO_WORK_STATES:
                changes.update({Ticket.state: "open", Ticket.closed_at: None, Ticket.resubmit_at: None})
            Ticket.update(changes).where(Ticket.id == ticket.id).execute()
        message = Message.create(tenant=msg.tenant_id, ticket=ticket.id, channel=msg.channel, direction="in",
                                 kind=msg.kind, sender=msg.sender[:254], recipient=msg.recipient[:254],
                                 subject=msg.subject[:SUBJECT_MAX], body=msg.body, source_ref=msg.source_ref[:300],
                                 idempotency_key=msg.idempotency_key, created_at=now)
        return Delivery(ticket.id, message.id, created, False)
