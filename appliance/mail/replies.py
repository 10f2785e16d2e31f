"""Replies from the desk: quote the customer's last mail, add salutation and signature, thread, queue."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from appliance.domain import images
from appliance.mail import autoreply, conversation, outbox
from appliance.mail.compose import InlineImage, Quoted, build_reply
from appliance.mail.errors import MailError
from appliance.mail.models import MailOutbox, MailRecord
from appliance.mail.parse import Attachment, parse_mail
from appliance.models import Message, Ticket


Pictures = Mapping[str, InlineImage]
"""The pictures a mail may carry, by digest: looked up and read by the caller, before its transaction (E4)."""


def pictures_of(html: str, pictures: Pictures) -> tuple[list[InlineImage], list[str]]:
    """The given pictures an HTML mail shows; and the digests it shows that are not among them (another tenant's,
    unknown, or gone from the store)."""
    found, missing = [], []
    for digest in images.sources_in(html):
        if digest in pictures:
            found.append(pictures[digest])
        else:
            missing.append(digest)
    return found, missing


def with_pictures(rendered: dict[str, str], pictures: Pictures) -> tuple[str | None, str | None,
                                                                        list[InlineImage]]:
    """A template rendered for an automatic mail: its HTML and HTML signature with the pictures it can carry, and
    those pictures; a picture that cannot be sent gives way to its alt text rather than stopping the mail."""
    html, signature_html = rendered.get("html") or None, rendered.get("signature_html") or None
    if html is None:
        return None, None, []
    found, missing = pictures_of(html + (signature_html or ""), pictures)
    if missing:
        html = images.drop_sources(html, set(missing))
        signature_html = images.drop_sources(signature_html, set(missing)) if signature_html else None
    return html, signature_html, found


@dataclass(frozen=True)
class QueuedReply:
    """What was queued."""

    outbox_id: int
    message_id: str
    to: list[str]


def queue_reply(tenant_id: int, ticket_id: int, text: str, user_id: int | None = None, html: str | None = None,
                salutation: str = "", attachments: list[Attachment] | None = None,
                to: list[str] | None = None, quote: bool = True, signature: str | None = None,
                subject: str | None = None, box: Any = None, auto: bool = False,
                kind: str = "reply", inline: list[InlineImage] | None = None,
                signature_html: str | None = None) -> QueuedReply:
    """Queue a reply on a mail ticket (inside a transaction): to the last inbound sender unless `to` is given.

    The ticket must belong to `tenant_id`; the sending address is the mailbox's first e-mail address, the
    signature (unless given, e.g. by a template) and S/MIME settings are the mailbox's (inherited), the
    subject (the ticket's unless given) carries the ticket tag.
    `box` (a SecretBox) opens the mailbox's sealed S/MIME key for signing. `auto` marks a mail no person wrote
    (RFC 3834), `kind` names it in the outbox (reply, interim).
    """
    ticket = Ticket.get_or_none((Ticket.id == ticket_id) & (Ticket.tenant == tenant_id))
    if ticket is None:
        raise MailError(f"no ticket {ticket_id} in this tenant")
    last = (Message.select().where(Message.ticket == ticket.id, Message.direction == "in", Message.channel == "mail")
            .order_by(Message.created_at.desc(), Message.id.desc()).first())
    settings = autoreply.mailbox_settings(ticket.mailbox_id) if ticket.mailbox_id else {}
    sender = (autoreply.mailbox_address(ticket.mailbox_id) if ticket.mailbox_id else "") or (
        last.recipient.split(",")[0].strip() if last else "")
    quoted = None
    if last is not None:
        record = MailRecord.get_or_none(MailRecord.message == last.id)
        refs: list[str] = []
        if record is not None and record.raw:
            try:
                refs = parse_mail(bytes(record.raw)).references
            except MailError:
                refs = []
        quoted = Quoted(last.source_ref, refs, last.sender, last.created_at.strftime("%a, %d %b %Y %H:%M UTC"),
                        last.body if quote else "")
    recipients = to or ([last.sender] if last and last.sender else [])
    if not recipients or not sender:
        raise MailError("no recipient or no sending address for this ticket")
    base = subject or ticket.subject
    subject = conversation.tagged_subject(ticket.id, base if base.lower().startswith("re:") else f"Re: {base}")
    msg = build_reply(from_addr=sender, from_name=str(settings.get("from_name", "")), to=recipients,
                      subject=subject, text=text, salutation=salutation,
                      signature=str(settings.get("signature", "")) if signature is None else signature,
                      quoted=quoted, html=html, attachments=attachments, auto=auto, inline=inline,
                      signature_html=signature_html)
    row: MailOutbox = outbox.enqueue(tenant_id, ticket.id, msg, sender, recipients, kind=kind, user_id=user_id,
                                     settings=settings, box=box)
    return QueuedReply(row.id, conversation.message_ids_of(msg), recipients)
