"""Voice messages and survey answers as the API and the consoles see them, through the scoped accessor."""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from appliance.domain.acd.survey_stats import GROUPINGS, AnswerRow, summarise
from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.models import Ticket
from appliance.models.access.scope import Scope
from appliance.models.acd_media import SurveyAnswer, VoiceMessage

MAX_DAYS = 366
DEFAULT_DAYS = 30
CSV_FIELDS = ("answered_at", "call_id", "queue", "agent_id", "question", "prompt", "answer", "scale_max")


def voice_json(vm: VoiceMessage) -> dict[str, Any]:
    """A voice message with the address of its audio."""
    return {"id": vm.id, "ticket_id": vm.ticket_id, "message_id": vm.message_id, "call_id": vm.call_id,
            "queue": vm.queue_key, "caller": vm.caller, "to": vm.to_address, "content_type": vm.content_type,
            "duration_s": vm.duration_s, "size": vm.size, "mailed": vm.outbox_id is not None,
            "mail_error": vm.mail_error, "created_at": vm.created_at.isoformat() + "Z",
            "audio_url": f"/api/v1/voice-messages/{vm.id}/audio"}


def ticket_voice_messages(scope: Scope, ticket_id: int) -> list[dict[str, Any]]:
    """The voice messages filed on a ticket the actor may read."""
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    return [voice_json(vm) for vm in scope.query(VoiceMessage).where(VoiceMessage.ticket_id == ticket.id)
            .order_by(VoiceMessage.id)]


def voice_message(scope: Scope, vm_id: int) -> VoiceMessage:
    """One voice message whose ticket the actor may read (NotFound otherwise, as for a missing one)."""
    scope.require(Perm.TICKETS_READ)
    vm = scope.get(VoiceMessage, vm_id)
    scope.get(Ticket, vm.ticket_id)
    return vm


def _date(params: Mapping[str, str], name: str, default: datetime.date) -> datetime.date:
    raw = params.get(name)
    if not raw:
        return default
    try:
        return datetime.date.fromisoformat(raw[:10])
    except ValueError:
        raise ValidationError({name: "must be a date such as 2026-11-23"}) from None


def survey_filter(params: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    """Checked filters: by (queue/agent), queue, agent, since and until (dates, until inclusive)."""
    by = params.get("by") or "queue"
    if by not in GROUPINGS:
        raise ValidationError({"by": f"must be one of {', '.join(GROUPINGS)}"})
    until = _date(params, "until", today)
    since = _date(params, "since", until - datetime.timedelta(days=DEFAULT_DAYS - 1))
    if since > until:
        raise ValidationError({"since": "must not be after until"})
    if (until - since).days >= MAX_DAYS:
        raise ValidationError({"since": f"at most {MAX_DAYS} days at a time"})
    return {"by": by, "queue": params.get("queue") or None, "agent": params.get("agent") or None,
            "since": since, "until": until}


def _answers(scope: Scope, f: dict[str, Any]):
    scope.require(Perm.REPORTS)
    q = scope.query(SurveyAnswer).where(
        (SurveyAnswer.answered_at >= datetime.datetime.combine(f["since"], datetime.time()))
        & (SurveyAnswer.answered_at < datetime.datetime.combine(f["until"] + datetime.timedelta(days=1),
                                                               datetime.time())))
    if f["queue"]:
        q = q.where(SurveyAnswer.queue_key == f["queue"])
    if f["agent"]:
        q = q.where(SurveyAnswer.agent_id == f["agent"])
    return q.order_by(SurveyAnswer.answered_at, SurveyAnswer.id)


def survey_stats(scope: Scope, params: Mapping[str, str], today: datetime.date) -> dict[str, Any]:
    """Count, average, distribution and per-day figures of the answers matching the filters."""
    f = survey_filter(params, today)
    rows = [AnswerRow(a.call_id, a.queue_key, a.agent_id, a.question, a.answer, a.scale_max, a.answered_at.date())
            for a in _answers(scope, f)]
    return {**summarise(rows, f["by"]), "since": f["since"].isoformat(), "until": f["until"].isoformat(),
            "queue": f["queue"], "agent": f["agent"]}


def survey_rows(scope: Scope, params: Mapping[str, str], today: datetime.date) -> list[dict[str, Any]]:
    """The answers themselves, for the CSV export."""
    f = survey_filter(params, today)
    return [{"answered_at": a.answered_at.isoformat() + "Z", "call_id": a.call_id, "queue": a.queue_key,
             "agent_id": a.agent_id or "", "question": a.question, "prompt": a.prompt, "answer": a.answer,
             "scale_max": a.scale_max} for a in _answers(scope, f).limit(100_000)]
