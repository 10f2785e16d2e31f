"""Workflow messages that leave the appliance by mail (F12 send, forward and query external; D13 the message to
each customer when an outage ticket closes): queued in the mail outbox like a desk reply, from the ticket's
mailbox address, threaded and signed per the mailbox. Outgoing SMS rows need nothing here: the SMS service
queues them (appliance.sms.outbox.scan_replies). Letters, faxes and calls are recorded for a person to do.
"""
from __future__ import annotations

from appliance.domain.identifiers import normalise_email
from appliance.domain.workflow import MessageSpec
from appliance.models import Message, Ticket, database_proxy
from appliance.models.access.scope import Scope


class Unsendable(Exception):
    """The mail cannot be queued; the text says why (no sending address, a bad recipient …)."""


def queue_mail(scope: Scope, ticket: Ticket, spec: MessageSpec, recipient: str) -> Message:
    """Queue `spec` as a mail on `ticket` to `recipient` (else the last inbound sender); the message row."""
    # The mail package sits beside the models and imports them: imported here to keep that graph one-way.
    from appliance.mail import replies
    from appliance.mail.errors import MailError
    from appliance.mail.models import MailRecord
    from appliance.security.secrets import SecretError

    to = None
    if recipient:
        try:
            to = [normalise_email(recipient)]
        except ValueError as exc:
            raise Unsendable(f"{recipient!r} {exc}") from None
    try:
        with database_proxy.atomic():  # a savepoint: a refused attempt leaves no outbox row behind
            queued = replies.queue_reply(ticket.tenant_id, ticket.id, spec.body, user_id=scope.actor.user_id,
                                         to=to, quote=spec.kind == "reply", subject=spec.subject or None)
    except (MailError, SecretError) as exc:
        raise Unsendable(str(exc)) from None
    record = MailRecord.get((MailRecord.ticket == ticket.id) & (MailRecord.header_id == queued.message_id[:300]))
    Message.update(kind=spec.kind).where(Message.id == record.message_id).execute()
    return Message.get_by_id(record.message_id)
