"""What a channel hands to the ticket system: "deliver this message to a ticket, idempotently".

Channels parse and decide (tenant, threading hint, spam); the sink owns the ticket side. It runs
inside the caller's database transaction, so a channel can add its own rows (mail details) to the
same commit and a crash leaves either all of it or none.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class InboundMessage:
    """A parsed inbound message, channel-neutral."""

    tenant_id: int
    channel: str                     # mail, sms, fax, letter …
    idempotency_key: str
    source_ref: str = ""             # Message-ID, spool entry, fax job …
    sender: str = ""                 # normalised: lower-case address, E.164 number
    sender_name: str = ""
    recipient: str = ""
    subject: str = ""
    body: str = ""
    mailbox_id: int | None = None
    ticket_id: int | None = None     # a threading hint; honoured only inside the same tenant
    new_ticket_state: str = "open"   # "spam" files a new ticket in the mailbox's spam folder
    kind: str = "message"            # message, bounce …


@dataclass(frozen=True)
class Delivery:
    """Where a message ended up."""

    ticket_id: int
    message_id: int
    created_ticket: bool
    duplicate: bool                  # the idempotency key was known: nothing was written


class TicketSink(Protocol):
    """The ticket side of intake; `deliver` runs inside an open transaction."""

    def deliver(self, msg: InboundMessage) -> Delivery:
        """Attach `msg` to a ticket (existing or new) unless its key is already known."""
        ...
