"""The scheduler's ticket jobs: SLA escalation steps (F8) and resubmissions come due (F12). Each change is
written with a system message on the ticket and an audit entry naming the job as its author."""
from __future__ import annotations

import datetime
import json
from typing import Any

from appliance.domain import sla, sla_notice, workflow
from appliance.models import AuditEntry, Message, SlaPolicy, Ticket, database_proxy
from appliance.models.auth import utcnow

ESCALATION_ACTOR = "SLA escalation"
RESUBMISSION_ACTOR = "resubmission"


def _audit(ticket: Ticket, actor: str, action: str, detail: dict[str, Any]) -> None:
    AuditEntry.create(tenant=ticket.tenant_id, user=None, username=actor, action=action, object_type="ticket",
                      object_id=ticket.id, detail=json.dumps(detail, default=str))


def escalate_due(now: datetime.datetime | None = None, box: Any = None,
                 base_url: str = "") -> list[tuple[int, int, str]]:
    """System job: apply every SLA escalation step reached (F8); returns (ticket, level, action).

    Call it inside one transaction (Database.call does): a notify step's mails are outbox rows written with
    the step's level, so a crash loses neither and a second pass repeats neither. `box` opens a signing
    mailbox's S/MIME key; `base_url` prefixes the desk link in those mails.
    """
    now = now or utcnow()
    done: list[tuple[int, int, str]] = []
    q = (Ticket.select(Ticket, SlaPolicy).join(SlaPolicy)
         .where(Ticket.state.not_in(workflow.FINAL_STATES)))
    for ticket in q:
        steps = sla.parse_escalations(json.loads(ticket.sla.escalations or "[]"))
        for level, step in sla.due_escalations(steps, ticket.escalation_level, ticket.created_at, ticket.due_at, now):
            changes: dict[str, Any] = {"escalation_level": level}
            if step.action == "raise_priority":
                changes["priority"] = max(1, ticket.priority - 1)
            elif step.action == "reassign_team":
                changes["owner"] = None
            # Only from a lower level: a second runner (or a replayed pass) that lost the race writes nothing.
            if not Ticket.update(**changes).where((Ticket.id == ticket.id)
                                                  & (Ticket.escalation_level < level)).execute():
                continue
            mailed = _notify(ticket, level, step, box, base_url) if step.action in sla_notice.NOTIFY_ACTIONS else None
            Message.create(tenant=ticket.tenant_id, ticket=ticket.id, channel="internal", direction="internal",
                           kind="system", body=f"SLA escalation {level}: {step.action} at {step.at_percent} %"
                           + _mail_note(mailed))
            _audit(ticket, ESCALATION_ACTOR, "sla.escalation",
                   {"level": level, "step": step.action, "at_percent": step.at_percent, "policy": ticket.sla.name,
                    "priority": [ticket.priority, changes.get("priority", ticket.priority)],
                    **({"owner_id": [ticket.owner_id, None]} if "owner" in changes else {}),
                    **({"mailed": mailed.mailed} if mailed is not None and mailed.mailed else {})})
            # A later step of the same pass starts from this one's result (a notify_owner after a reassignment).
            ticket.priority = changes.get("priority", ticket.priority)
            if "owner" in changes:
                ticket.owner = None
            done.append((ticket.id, level, step.action))
    return done


def _notify(ticket: Ticket, level: int, step: sla.EscalationStep, box: Any, base_url: str) -> Any:
    """Queue a notify step's mails; nobody to mail is audited, not raised (the step still counts as done)."""
    from appliance.mail.escalation import Outcome, queue_escalation_mail  # mail imports the models: one way
    from appliance.mail.errors import MailError
    from appliance.security.secrets import SecretError
    try:
        with database_proxy.atomic():  # a savepoint: a refused mail leaves no half-written outbox row
            outcome = queue_escalation_mail(ticket, level, step, ticket.sla.name, box=box, base_url=base_url)
    except (MailError, SecretError) as exc:
        outcome = Outcome(unmailed=str(exc))
    if outcome.unmailed:
        _audit(ticket, ESCALATION_ACTOR, "sla.escalation.unmailed",
               {"level": level, "step": step.action, "reason": outcome.unmailed})
    return outcome


def _mail_note(outcome: Any) -> str:
    """What the system message adds about the mail of a notify step."""
    if outcome is None:
        return ""
    if outcome.mailed:
        return "; mailed to " + ", ".join(outcome.mailed)
    return f"; nobody could be mailed: {outcome.unmailed}"


def wake_resubmissions(now: datetime.datetime | None = None) -> list[int]:
    """System job: tickets whose resubmission time has come go back to work (F12 resubmission)."""
    now = now or utcnow()
    due = [t.id for t in Ticket.select(Ticket.id).where((Ticket.state == "resubmission") & (Ticket.resubmit_at <= now))]
    if due:
        Ticket.update(state="open", resubmit_at=None, updated_at=now).where(Ticket.id.in_(due)).execute()
        for ticket_id in due:
            ticket = Ticket.get_by_id(ticket_id)
            Message.create(tenant=ticket.tenant_id, ticket=ticket_id, channel="internal", direction="internal",
                           kind="system", body="Resubmission due: back in the work queue")
            _audit(ticket, RESUBMISSION_ACTOR, "resubmission.due", {"state": ["resubmission", "open"]})
    return due


def tenants_of(ticket_ids: list[int]) -> dict[int, int]:
    """Each ticket's tenant, for the events announcing what the jobs changed."""
    if not ticket_ids:
        return {}
    return dict(Ticket.select(Ticket.id, Ticket.tenant).where(Ticket.id.in_(ticket_ids)).tuples())
