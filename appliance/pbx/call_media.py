"""What a call leaves behind besides its history row: a voice message filed on the call's phone ticket and
mailed with the recording attached (B8 "voice message to e-mail", B18), and the after-call survey's answers
(B17). Runs inside the transaction that saves the call record, so a replayed record adds nothing twice."""
from __future__ import annotations

import datetime
from typing import Any, Callable

from appliance.mail import autoreply, conversation, outbox
from appliance.mail.compose import build_reply
from appliance.mail.models import MailOutbox
from appliance.mail.parse import Attachment
from appliance.models import Message, Ticket
from appliance.models.acd_media import SurveyAnswer, VoiceMessage
from appliance.models.auth import utcnow

EXTENSIONS = {"audio/wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg"}


def file_voicemail(record: dict[str, Any], tenant_id: int | None, ticket_id: int | None,
                   load_audio: Callable[[str], bytes], box: Any = None) -> VoiceMessage | None:
    """Attach the call's voice message to its phone ticket and queue the e-mail; None without one.

    `box` (appliance.security.secrets.SecretBox) opens the mailbox's sealed S/MIME key, so a mailbox that
    signs its mail signs these too.

    The audio is already in the document store (`record["voicemail"]["digest"]`). A mailbox with no e-mail
    address to send from keeps the message on the ticket and says why no mail went out.
    """
    vm = record.get("voicemail")
    if not vm or tenant_id is None or ticket_id is None:
        return None
    seen = VoiceMessage.get_or_none(VoiceMessage.call_id == record["call_id"])
    if seen is not None:
        return seen
    ticket = Ticket.get((Ticket.id == ticket_id) & (Ticket.tenant == tenant_id))
    message = Message.get((Message.tenant == tenant_id) & (Message.idempotency_key == f"call:{record['call_id']}"))
    caller = message.sender or record.get("caller") or "an unknown number"
    duration = float(vm.get("duration_s") or 0.0)
    row = VoiceMessage.create(tenant=tenant_id, call_id=record["call_id"], queue_key=record.get("queue_id") or "",
                              caller=(record.get("caller") or "")[:40], to_address=vm["to"], digest=vm["digest"],
                              content_type=vm.get("content_type") or "audio/wav", duration_s=duration,
                              size=int(vm.get("size") or 0), ticket_id=ticket.id, message_id=message.id)
    sender = autoreply.sending_address(tenant_id, ticket.mailbox_id)
    if not sender:
        row.mail_error = "not mailed: the mailbox has no e-mail address to send from"
    else:
        stamp = datetime.datetime.fromtimestamp(record["arrived_at"], datetime.timezone.utc)
        ext = EXTENSIONS.get(row.content_type, "bin")
        text = (f"{caller} left a voice message of {duration:.0f} s on {stamp:%Y-%m-%d %H:%M} UTC "
                f"(queue {row.queue_key}, dialled {record.get('dialled') or '-'}).\n"
                f"The recording is attached; the call is filed on ticket #{ticket.id}.")
        mail = build_reply(from_addr=sender, to=[vm["to"]], text=text,
                           subject=conversation.tagged_subject(ticket.id, f"Voice message from {caller}"),
                           attachments=[Attachment(f"voice-message-{stamp:%Y%m%d-%H%M%S}.{ext}", row.content_type,
                                                   load_audio(row.digest))])
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no auto-replies to this
        settings = autoreply.mailbox_settings(ticket.mailbox_id) if ticket.mailbox_id else {}
        queued = outbox.enqueue(tenant_id, None, mail, sender, [vm["to"]], kind="voicemail", settings=settings,
                                box=box)
        MailOutbox.update(ticket=ticket.id).where(MailOutbox.id == queued.id).execute()
        row.outbox_id = queued.id
    row.save()
    body = f"{message.body}\nVoice message: {duration:.0f} s, " + (
        f"sent by e-mail to {vm['to']}." if row.outbox_id else row.mail_error + ".")
    Message.update(body=body).where(Message.id == message.id).execute()
    return row


def save_survey(record: dict[str, Any], tenant_id: int | None) -> int:
    """Store the survey's answers of one call, one row per answered question; returns how many."""
    survey = record.get("survey")
    if not survey:
        return 0
    stored = 0
    at = utcnow()
    for number, (prompt, answer) in enumerate(zip(survey["questions"], survey["answers"]), 1):
        if answer is None:
            continue
        SurveyAnswer.insert(
            tenant=tenant_id, call_id=record["call_id"], queue_key=record.get("queue_id") or "",
            agent_id=record.get("agent_id"), question=number, prompt=str(prompt)[:64], answer=int(answer),
            scale_max=int(survey.get("scale") or 5), answered_at=at).on_conflict_ignore().execute()
        stored += 1
    return stored
