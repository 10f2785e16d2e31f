"""Auto-replies per mailbox (E3): settings inherited down the mailbox tree, sent through the outbox."""
from __future__ import annotations

import json
from typing import Any, Mapping, Protocol

from appliance.mail import conversation, outbox
from appliance.mail.compose import InlineImage, Quoted, build_reply
from appliance.mail.parse import ParsedMail
from appliance.models import Mailbox, ServiceAddress


class ReplyContent(Protocol):
    """What an automatic mail takes from the layers above mail, supplied by its caller (models.access.mail_content):
    a tenant's reply template rendered for a ticket (E3) and the tenant's pictures an HTML text shows (E4)."""

    def render(self, tenant_id: int, template_id: Any, ticket_id: int) -> dict[str, str] | None:
        """The template's texts for the ticket; None when it cannot be used (the plain text is sent instead)."""
        ...

    def pictures(self, tenant_id: int, html: str) -> Mapping[str, InlineImage]:
        """The tenant's pictures `html` shows, by digest, with their bytes; the others are left out."""
        ...


def mailbox_settings(mailbox_id: int) -> dict[str, Any]:
    """A mailbox's settings merged over its parents' (F5: unset keys are inherited)."""
    chain, seen = [], set()
    current = Mailbox.get_or_none(Mailbox.id == mailbox_id)
    while current is not None and current.id not in seen:
        seen.add(current.id)
        chain.append(current)
        current = Mailbox.get_or_none(Mailbox.id == current.parent_id) if current.parent_id else None
    merged: dict[str, Any] = {}
    for box in reversed(chain):
        try:
            values = json.loads(box.settings or "{}")
        except ValueError:
            continue
        if isinstance(values, dict):
            merged.update(values)
    return merged


def mailbox_address(mailbox_id: int) -> str:
    """The first e-mail service address of a mailbox ("" if none)."""
    row = (ServiceAddress.select(ServiceAddress.value)
           .where(ServiceAddress.mailbox == mailbox_id, ServiceAddress.kind == "email")
           .order_by(ServiceAddress.id).first())
    return row.value if row else ""


def sending_address(tenant_id: int, mailbox_id: int | None) -> str:
    """The address system mail goes out from: the mailbox's own, else the tenant's first one ("" if none)."""
    if mailbox_id is not None:
        own = mailbox_address(mailbox_id)
        if own:
            return own
    row = (ServiceAddress.select(ServiceAddress.value)
           .where((ServiceAddress.tenant == tenant_id) & (ServiceAddress.kind == "email"))
           .order_by(ServiceAddress.id).first())
    return row.value if row else ""


def queue_auto_reply(tenant_id: int, mailbox_id: int, ticket_id: int, mail: ParsedMail, recipient: str,
                     settings: dict[str, Any] | None = None, box: Any = None,
                     content: ReplyContent | None = None) -> bool:
    """Queue the mailbox's auto-reply to a new ticket's first mail; False when the mailbox has none.

    The mailbox setting `auto_reply` holds `enabled` and either `text` (with `{ticket}`) or `template_id`, a
    tenant-wide reply template rendered with the ticket's variables by `content` (without it, the plain text).
    """
    settings = mailbox_settings(mailbox_id) if settings is None else settings
    conf = settings.get("auto_reply") or {}
    if not isinstance(conf, dict) or not conf.get("enabled"):
        return False
    to = mail.reply_to or mail.from_addr
    sender = recipient or mailbox_address(mailbox_id)
    if not to or not sender:
        return False
    subject = conversation.tagged_subject(ticket_id, str(conf.get("subject") or f"Re: {mail.subject}"))
    text = str(conf.get("text") or "Thank you for your message. We will answer as soon as we can.")
    text = text.replace("{ticket}", str(ticket_id))
    salutation, signature, html = "", str(settings.get("signature", "")), None
    signature_html, inline = None, []
    if conf.get("template_id") is not None and content is not None:  # E3: a reply template with variables
        tpl = content.render(tenant_id, conf["template_id"], ticket_id)
        if tpl is not None:
            from appliance.mail.replies import with_pictures  # replies builds on this module
            salutation, text = tpl["salutation"], tpl["text"]
            shown = (tpl.get("html") or "") + (tpl.get("signature_html") or "")
            html, signature_html, inline = with_pictures(tpl, content.pictures(tenant_id, shown))  # E4
            signature = tpl["signature"] or signature
    msg = build_reply(from_addr=sender, from_name=str(settings.get("from_name", "")), to=[to], subject=subject,
                      text=text, salutation=salutation, signature=signature, html=html,
                      quoted=Quoted(mail.message_id, mail.references, mail.from_addr, mail.date), auto=True,
                      inline=inline, signature_html=signature_html)
    outbox.enqueue(tenant_id, ticket_id, msg, sender, [to], kind="auto_reply", settings=settings, box=box)
    return True
