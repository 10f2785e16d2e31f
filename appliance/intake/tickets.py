"""The sink bound to the domain core's ticket model: find or open the ticket, identify the customer,
add the message. Same rules as `models.access.tickets.add_message` (which needs a logged-in actor):
idempotency key unique per tenant, an inbound answer brings a pending ticket back to work."""
from __future__ import annotations

import json

from appliance.domain import sla
from appliance.intake.rows import insert_row, select_rows
from appliance.intake.sink import Delivery, InboundMessage
from appliance.models import Customer, CustomerIdentifier, Mailbox, Message, Ticket
from appliance.models.auth import utcnow

SUBJECT_MAX = 300
REOPEN_STATES = ("done",)                       # workflow.STATES: an answer reopens a finished case
BACK_TO_WORK_STATES = ("pending", "resubmission")
SPAM_FOLDER = "Spam"


_IDENTIFY = ('SELECT ci."customer_id" FROM "customer_identifier" ci JOIN "customer" c ON c."id" = ci."customer_id" '
             'WHERE ci."tenant_id" = {p} AND ci."kind" = {p} AND ci."value" = {p} AND c."active" = {p} '
             'ORDER BY ci."id" LIMIT 1')
_KNOWN = 'SELECT "id", "ticket_id" FROM "message" WHERE "tenant_id" = {p} AND "idempotency_key" = {p}'
_TICKET = 'SELECT "id", "state" FROM "ticket" WHERE "id" = {p} AND "tenant_id" = {p}'


def identify_customer(tenant_id: int, channel: str, sender: str) -> int | None:
    """The customer whose identifier matches the sender, in this tenant only (first of several)."""
    if not sender:
        return None
    kind = "email" if channel == "mail" else "phone"
    rows = select_rows(CustomerIdentifier, _IDENTIFY, [tenant_id, kind, sender.lower(), True])
    return rows[0][0] if rows else None


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
        known = select_rows(Message, _KNOWN, [msg.tenant_id, msg.idempotency_key])
        if known:
            return Delivery(known[0][1], known[0][0], False, True)
        now = utcnow()
        ticket = None
        if msg.ticket_id is not None:
            # The tenant filter is what stops a forged ticket number of another tenant attaching.
            found = select_rows(Ticket, _TICKET, [msg.ticket_id, msg.tenant_id])
            ticket = found[0] if found and found[0][1] != "deleted" else None
        created = ticket is None
        if ticket is None:
            spam = msg.new_ticket_state == "spam"
            _, due = sla.ticket_due_times(now, None, None, None)
            # Spam is filed, not worked: "pending" keeps it out of the work queue until a person looks.
            ticket_id = insert_row(Ticket, tenant=msg.tenant_id, subject=msg.subject[:SUBJECT_MAX],
                                   channel=msg.channel, state="pending" if spam else "open",
                                   mailbox=spam_folder(msg.tenant_id, msg.mailbox_id) if spam else msg.mailbox_id,
                                   customer=identify_customer(msg.tenant_id, msg.channel, msg.sender),
                                   due_at=due, created_at=now, updated_at=now)
        else:
            ticket_id, state = ticket
            changes = {Ticket.updated_at: now}
            if state in REOPEN_STATES or state in BACK_TO_WORK_STATES:
                changes.update({Ticket.state: "open", Ticket.closed_at: None, Ticket.resubmit_at: None})
            Ticket.update(changes).where(Ticket.id == ticket_id).execute()
        message_id = insert_row(Message, tenant=msg.tenant_id, ticket=ticket_id, channel=msg.channel, direction="in",
                                kind=msg.kind, sender=msg.sender[:254], recipient=msg.recipient[:254],
                                subject=msg.subject[:SUBJECT_MAX], body=msg.body, source_ref=msg.source_ref[:300],
                                idempotency_key=msg.idempotency_key, created_at=now)
        return Delivery(ticket_id, message_id, created, False)
