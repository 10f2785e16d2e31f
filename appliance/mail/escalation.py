"""The mail an SLA escalation step `notify_owner` / `notify_lead` queues (F8): to the ticket's owner, or to the
leads of its team (else the tenant's supervisors), through the mail outbox like every other mail.

Runs inside the escalation's transaction, so the outbox rows are written with the step's level or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.domain import sla_notice
from appliance.domain.identifiers import normalise_email
from appliance.domain.sla import EscalationStep
from appliance.mail import autoreply, outbox
from appliance.mail.compose import build_reply
from appliance.mail.models import MailOutbox
from appliance.models import Team, TeamMember, Tenant, Ticket, User

KIND = "escalation"          # MailOutbox.kind
DESK_PATH = "/desk/tickets/{id}"
LEAD_ROLE = "team_lead"
FALLBACK_ROLE = "supervisor"


@dataclass
class Outcome:
    """Who got the mail (addresses), or why nobody could be mailed."""

    mailed: list[str] = field(default_factory=list)
    unmailed: str = ""


def _leads(ticket: Ticket) -> list[User]:
    """The active leads of the ticket's team (lead membership or the team-lead role), else the supervisors."""
    leads: list[User] = []
    if ticket.team_id is not None:
        leads = list(User.select().join(TeamMember, on=(TeamMember.user == User.id))
                     .where((TeamMember.team == ticket.team_id) & (User.tenant == ticket.tenant_id)
                            & (User.active == True)  # noqa: E712
                            & ((TeamMember.lead == True) | (User.role == LEAD_ROLE)))  # noqa: E712
                     .order_by(User.id))
    if not leads:
        leads = list(User.select().where((User.tenant == ticket.tenant_id) & (User.role == FALLBACK_ROLE)
                                         & (User.active == True)).order_by(User.id))  # noqa: E712
    return leads


def recipients(ticket: Ticket, action: str) -> tuple[list[tuple[User, str]], str]:
    """(user, normalised address) to mail for the step, and why nobody if the list is empty."""
    if action == "notify_owner":
        owner = User.get_or_none((User.id == ticket.owner_id) & (User.tenant == ticket.tenant_id)
                                 & (User.active == True))  # noqa: E712
        people = [owner] if owner is not None else []
        nobody = "" if people else ("the ticket's owner is disabled" if ticket.owner_id else "the ticket has no owner")
    else:
        people = _leads(ticket)
        nobody = "" if people else "the team has no lead and the tenant no supervisor"
    found: list[tuple[User, str]] = []
    for user in people:
        try:
            found.append((user, normalise_email(user.email)))
        except ValueError:
            continue  # no address or an unusable one: named in the reason below if nobody is left
    if people and not found:
        names = ", ".join(u.username for u in people)
        nobody = f"no e-mail address for {names}"
    return found, nobody


def queue_escalation_mail(ticket: Ticket, level: int, step: EscalationStep, policy: str, box: Any = None,
                          base_url: str = "") -> Outcome:
    """Queue one mail per recipient of a notify step (inside the caller's transaction); what happened."""
    people, nobody = recipients(ticket, step.action)
    if not people:
        return Outcome(unmailed=nobody)
    sender = autoreply.sending_address(ticket.tenant_id, ticket.mailbox_id)
    if not sender:
        return Outcome(unmailed="no e-mail service address to send from")
    tenant = Tenant.get_by_id(ticket.tenant_id)
    team = Team.get_or_none(Team.id == ticket.team_id) if ticket.team_id else None
    settings = autoreply.mailbox_settings(ticket.mailbox_id) if ticket.mailbox_id else {}
    link = base_url.rstrip("/") + DESK_PATH.format(id=ticket.id)
    due = sla_notice.local_due(ticket.due_at, tenant.timezone)
    outcome = Outcome()
    for user, address in people:
        notice = sla_notice.escalation_notice(user.language, step.action, number=ticket.id, subject=ticket.subject,
                                              percent=step.at_percent, level=level, due=due, link=link,
                                              policy=policy, team=team.name if team else "")
        mail = build_reply(from_addr=sender, from_name=str(settings.get("from_name", "")), to=[address],
                           subject=notice.subject, text=notice.body)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no auto-replies to this, no loops
        mail["X-Auto-Response-Suppress"] = "All"   # the same for Exchange
        # No ticket on enqueue: this is staff mail, not a message of the customer's conversation.
        row = outbox.enqueue(ticket.tenant_id, None, mail, sender, [address], kind=KIND, settings=settings, box=box)
        MailOutbox.update(ticket=ticket.id).where(MailOutbox.id == row.id).execute()
        outcome.mailed.append(address)
    return outcome
