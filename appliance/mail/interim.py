"""Interim replies per mailbox (E3, the seed's "Zwischenbescheid"): a mail ticket nobody has answered
`after_hours` after it opened gets one message saying it is being worked on, from a reply template or a text.

Mailbox setting (inherited down the tree like every mailbox setting):
`"interim_reply": {"enabled": true, "after_hours": 24, "template_id": 7}` or `… "text": "…{ticket}…"`.
Only tickets that crossed the threshold within the last CATCH_UP window are answered, so switching the
setting on does not mail every old ticket at once.
"""
from __future__ import annotations

import datetime
from typing import Any

from peewee import fn

from appliance.mail import autoreply, replies
from appliance.mail.errors import MailError
from appliance.mail.models import MailOutbox
from appliance.models import Mailbox, Message, Ticket
from appliance.models.auth import utcnow

CATCH_UP = datetime.timedelta(hours=24)
DEFAULT_TEXT = "Your message (ticket {ticket}) is being worked on. We will answer as soon as we can."
BATCH = 200


def _conf(mailbox_id: int) -> dict[str, Any] | None:
    conf = autoreply.mailbox_settings(mailbox_id).get("interim_reply")
    if not isinstance(conf, dict) or not conf.get("enabled"):
        return None
    hours = conf.get("after_hours", 24)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 60:
        return None
    return {**conf, "after_hours": float(hours)}


def _unanswered(mailbox_id: int, cutoff: datetime.datetime) -> list[Ticket]:
    """Open mail tickets of the mailbox created in (cutoff - CATCH_UP, cutoff] with no outgoing mail yet."""
    # Correlated NOT EXISTS: one index probe per candidate ticket, not a scan of every message each minute.
    # An auto-reply (kind "system") is no answer; a person's reply is.
    answered = Message.select(Message.id).where((Message.ticket == Ticket.id) & (Message.direction == "out")
                                                & (Message.channel == "mail") & (Message.kind != "system"))
    sent = MailOutbox.select(MailOutbox.id).where((MailOutbox.ticket == Ticket.id) & (MailOutbox.kind == "interim"))
    return list(Ticket.select().where(
        (Ticket.mailbox == mailbox_id) & (Ticket.channel == "mail") & (Ticket.state == "open")
        & (Ticket.created_at <= cutoff) & (Ticket.created_at > cutoff - CATCH_UP)
        & ~fn.EXISTS(answered) & ~fn.EXISTS(sent)).order_by(Ticket.id).limit(BATCH))


def queue_due(now: datetime.datetime | None = None, box: Any = None,
              content: autoreply.ReplyContent | None = None) -> list[int]:
    """System job: queue the interim replies that have come due; returns their tickets.

    `content` renders a mailbox's reply template and supplies its pictures (E3, E4); without it the text is sent.
    """
    now = now or utcnow()
    done: list[int] = []
    for box_row in Mailbox.select(Mailbox.id, Mailbox.tenant).where(Mailbox.active == True):  # noqa: E712
        conf = _conf(box_row.id)
        if conf is None:
            continue
        for ticket in _unanswered(box_row.id, now - datetime.timedelta(hours=conf["after_hours"])):
            rendered = None
            if conf.get("template_id") is not None and content is not None:
                rendered = content.render(ticket.tenant_id, conf["template_id"], ticket.id)
            text = str(conf.get("text") or DEFAULT_TEXT).replace("{ticket}", str(ticket.id))
            html, signature_html, inline = None, None, []
            if rendered:
                shown = (rendered.get("html") or "") + (rendered.get("signature_html") or "")
                html, signature_html, inline = replies.with_pictures(
                    rendered, content.pictures(ticket.tenant_id, shown) if content else {})
            try:
                replies.queue_reply(ticket.tenant_id, ticket.id, rendered["text"] if rendered else text,
                                    html=html, signature_html=signature_html, inline=inline,
                                    salutation=rendered["salutation"] if rendered else "",
                                    signature=(rendered["signature"] or None) if rendered else None,
                                    quote=False, box=box, auto=True, kind="interim")
            except MailError:
                continue  # nobody to write to (no sender, no address): nothing to say
            done.append(ticket.id)
    return done

