"""Tickets of every channel: create (idempotent), list, update, messages, workflow actions, master/child
links, back-office steps, the universal work queue and SLA escalation (C7, D13, F8, F9, F12, F15)."""
from __future__ import annotations

import json
from typing import Any, Mapping

import peewee

from appliance.domain import sla, workflow, worknext
from appliance.domain.errors import Conflict, Forbidden, ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models import (Category, Customer, CustomerIdentifier, Mailbox, Message, SlaPolicy, Team, Tenant,
                              Ticket, TicketStep, database_proxy)
from appliance.models.access import outbound
from appliance.models.access.ticket_jobs import escalate_due, wake_resubmissions  # noqa: F401 - their old home
from appliance.models.access.resource import Resource, to_jsonable
from appliance.models.access.scope import Page, Scope
from appliance.models.auth import utcnow

_MESSAGE_FIELDS = (
    Field("channel", choices=workflow.CHANNELS), Field("direction", choices=("in", "out", "internal")),
    Field("kind", choices=("message", "note", "reply", "query", "forward", "system")),
    Field("sender", max_length=254), Field("recipient", max_length=254), Field("subject", max_length=300),
    Field("body", max_length=1_000_000), Field("source_ref", max_length=300),
    Field("idempotency_key", max_length=200, help="unique per tenant; a repeat returns the first result"))
MESSAGE_SCHEMA = Schema("message", _MESSAGE_FIELDS)
_TICKET_FIELDS = (
    Field("subject", required=True, max_length=300), Field("tenant_id", "id"),
    Field("channel", choices=workflow.CHANNELS), Field("priority", "int", minimum=1, maximum=5),
    Field("owner_id", "id", nullable=True), Field("team_id", "id", nullable=True),
    Field("mailbox_id", "id", nullable=True), Field("category_id", "id", nullable=True),
    Field("customer_id", "id", nullable=True), Field("sla_id", "id", nullable=True),
    Field("skill_id", "id", nullable=True), Field("min_level", "int", minimum=1, maximum=5),
    Field("language", max_length=16), Field("due_at", "datetime"), Field("master_id", "id", nullable=True))
_FIRST_MESSAGE = tuple(f for f in _MESSAGE_FIELDS if f.name not in ("channel", "subject"))


class TicketResource(Resource):
    """Tickets; the first message may come with the creation, keyed for idempotency."""

    name, model = "tickets", Ticket
    create_schema = Schema("ticket", _TICKET_FIELDS + _FIRST_MESSAGE)
    update_schema = Schema("ticket_update", tuple(f for f in _TICKET_FIELDS
                                                  if f.name not in ("tenant_id", "channel", "master_id")))
    read_perm, write_perm = Perm.TICKETS_READ, Perm.TICKETS_WRITE
    search = ("subject",)
    filters = ("state", "owner_id", "team_id", "mailbox_id", "customer_id", "channel", "category_id",
               "priority", "master_id", "skill_id")
    filter_choices = {"state": workflow.STATES, "channel": workflow.CHANNELS}
    unique = ()

    def to_json(self, scope: Scope, obj: Any) -> dict[str, Any]:
        out = super().to_json(scope, obj)
        # A ticket created in this transaction has no steps yet: spare the query on the intake path.
        out["open_steps"] = 0 if getattr(obj, "created_now", False) else TicketStep.select().where(
            (TicketStep.ticket == obj.id) & TicketStep.done_at.is_null()).count()
        return out

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        ticket_fields = {k: v for k, v in data.items() if k not in {f.name for f in _FIRST_MESSAGE}}
        if "owner_id" in ticket_fields and ticket_fields["owner_id"] not in (None, scope.actor.user_id) \
                and not scope.can(Perm.TICKETS_ASSIGN):
            raise Forbidden("your role may not assign tickets to others")
        if ticket_fields.get("language"):
            ticket_fields["language"] = ticket_fields["language"].lower()
        if ticket_fields.get("master_id") is not None:
            master = scope.ref(Ticket, ticket_fields["master_id"], "master_id", tenant_id)
            if master.master_id is not None:
                raise ValidationError({"master_id": "a linked ticket cannot itself be a master"})
        out = super().values(scope, ticket_fields, obj, tenant_id)
        now = utcnow().replace(microsecond=0)  # SLA clocks count whole seconds from the creation
        if obj is None or "sla" in out:
            policy = SlaPolicy.get_by_id(out["sla"]) if out.get("sla") else None
            created = obj.created_at if obj is not None else now
            response, due = sla.ticket_due_times(
                created, policy.response_minutes if policy else None, policy.resolve_minutes if policy else None,
                sla.parse_calendar(json.loads(policy.calendar or "{}"), Tenant.get_by_id(tenant_id).timezone)
                if policy else None)
            out.setdefault("due_at", due)
            out["response_due_at"] = response
        if obj is None:
            out["created_by"] = scope.actor.user_id if scope.actor.tenant_id == tenant_id else None
            out["created_at"] = now
        out["updated_at"] = now
        return out

    def create(self, scope: Scope, raw: Any, from_form: bool = False) -> dict[str, Any]:
        """A new ticket; with an `idempotency_key` already used in the tenant, the existing ticket."""
        if isinstance(raw, Mapping) and raw.get("idempotency_key") and isinstance(raw["idempotency_key"], str):
            tenant_id = scope.tenant_for_create(raw.get("tenant_id"))
            seen = Message.get_or_none((Message.tenant == tenant_id)
                                       & (Message.idempotency_key == raw["idempotency_key"].strip()))
            if seen is not None:
                scope.require(self.read_perm)
                out = self.to_json(scope, scope.get(Ticket, seen.ticket_id))
                out["duplicate"] = True
                return out
        return super().create(scope, raw, from_form)

    def after_save(self, scope: Scope, obj: Any, data: dict[str, Any], created: bool) -> None:
        if not created:
            return
        obj.created_now = True
        first = {k: data[k] for k in (f.name for f in _FIRST_MESSAGE) if k in data}
        if first.get("body") or first.get("idempotency_key") or first.get("source_ref"):
            first.setdefault("direction", "in" if obj.channel != "internal" else "internal")
            # create() looked the key up already, in this transaction.
            _insert_message(scope, obj, {"channel": obj.channel, "subject": obj.subject, **first}, new_ticket=True)


def _message_json(m: Message) -> dict[str, Any]:
    return {"id": m.id, "tenant_id": m.tenant_id, "ticket_id": m.ticket_id, "channel": m.channel, "direction": m.direction, "kind": m.kind,
            "sender": m.sender, "recipient": m.recipient, "subject": m.subject, "body": m.body,
            "source_ref": m.source_ref, "idempotency_key": m.idempotency_key, "created_by_id": m.created_by_id,
            "created_at": to_jsonable(m.created_at)}


def _insert_message(scope: Scope, ticket: Ticket, data: dict[str, Any], new_ticket: bool = False) -> Message:
    key = data.get("idempotency_key") or None
    if key and not new_ticket and Message.select().where((Message.tenant == ticket.tenant_id)
                                                         & (Message.idempotency_key == key)).exists():
        raise ValidationError({"idempotency_key": "already used"})
    msg = Message.create(tenant=ticket.tenant_id, ticket=ticket.id, created_by=scope.actor.user_id
                         if scope.actor.tenant_id == ticket.tenant_id else None,
                         **{**data, "idempotency_key": key})
    if not new_ticket:
        Ticket.update(updated_at=utcnow()).where(Ticket.id == ticket.id).execute()
    return msg


def add_message(scope: Scope, ticket_id: int, raw: Any) -> tuple[dict[str, Any], bool]:
    """Add a message; (message, created). A repeated idempotency key returns the first message."""
    scope.require(Perm.TICKETS_WRITE)
    ticket = scope.get(Ticket, ticket_id, for_update=True)
    data = MESSAGE_SCHEMA.validate(raw)
    key = data.get("idempotency_key")
    if key:
        seen = Message.get_or_none((Message.tenant == ticket.tenant_id) & (Message.idempotency_key == key))
        if seen is not None:
            return _message_json(seen), False
    data.setdefault("channel", ticket.channel)
    data.setdefault("direction", "in")
    msg = _insert_message(scope, ticket, data)
    if ticket.state in ("pending", "resubmission") and data["direction"] == "in":
        # An answer to a query, or news on a resubmitted ticket, brings it back to work.
        Ticket.update(state="open", resubmit_at=None).where(Ticket.id == ticket.id).execute()
    scope.audit("message", ticket, detail={"message_id": msg.id, "channel": msg.channel})
    return _message_json(msg), True


def list_messages(scope: Scope, ticket_id: int, params: Mapping[str, str]) -> Page:
    """A ticket's messages, oldest first."""
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    page = scope.page(scope.query(Message).where(Message.ticket == ticket.id), Message,
                      params.get("limit"), params.get("cursor"))
    page.items = [_message_json(m) for m in page.items]
    return page


def _view(ticket: Ticket) -> workflow.TicketView:
    open_steps = TicketStep.select().where((TicketStep.ticket == ticket.id) & TicketStep.done_at.is_null()).count()
    is_master = Ticket.select().where(Ticket.master == ticket.id).exists()
    return workflow.TicketView(ticket.id, ticket.state, ticket.channel, ticket.owner_id, ticket.team_id,
                               ticket.mailbox_id, open_steps, is_master)


_REFS = {"user_id": None, "team_id": Team, "mailbox_id": Mailbox, "category_id": Category}


def apply_action(scope: Scope, ticket_id: int, raw: Any) -> dict[str, Any]:
    """Run a workflow action (F12) on a ticket and return the ticket."""
    scope.require(Perm.TICKETS_WRITE)
    if not isinstance(raw, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    action = workflow.parse_action(raw.get("action"))
    if action == workflow.Action.DELETE:
        scope.require(Perm.TICKETS_DELETE)
    ticket = scope.get(Ticket, ticket_id, for_update=True)
    params = {k: v for k, v in raw.items() if k != "action"}
    plan = workflow.plan_action(_view(ticket), action, params, scope.actor.user_id or 0, utcnow())
    for key, value in plan.check_ids.items():
        if key == "user_id":
            scope.ref_user(value, key, ticket.tenant_id)
            if value != scope.actor.user_id and not scope.can(Perm.TICKETS_ASSIGN) \
                    and action == workflow.Action.ASSIGN:
                raise Forbidden("your role may not assign tickets to others")
        else:
            scope.ref(_REFS[key], value, key, ticket.tenant_id)
    if plan.changes:
        Ticket.update(**plan.changes, updated_at=utcnow()).where(Ticket.id == ticket.id).execute()
    for spec in plan.messages:
        if spec.direction == "out" and spec.channel == "mail":
            try:
                outbound.queue_mail(scope, ticket, spec, spec.recipient)
            except outbound.Unsendable as exc:  # the whole action is refused: nothing half-done
                raise ValidationError({"recipient": f"cannot send by mail: {exc}"}) from None
            continue
        _insert_message(scope, ticket, {"channel": spec.channel, "direction": spec.direction, "kind": spec.kind,
                                        "recipient": spec.recipient, "subject": spec.subject or ticket.subject,
                                        "body": spec.body})
    closed_children: list[int] = []
    unsent: dict[str, str] = {}
    if plan.close_children:
        closed_children, unsent = _close_children(scope, ticket, plan.child_message)
    detail = {**params, "closed_children": closed_children}
    if unsent:
        detail["children_not_mailed"] = unsent
    scope.audit(f"action.{action.value}", ticket, detail=detail)
    return TicketResource().to_json(scope, Ticket.get_by_id(ticket.id))


def _close_children(scope: Scope, master: Ticket, text: str) -> tuple[list[int], dict[str, str]]:
    """D13: closing an outage ticket closes every linked ticket with a message to its customer; (closed, the
    children whose mail could not be queued and why: their message is recorded for a person to send)."""
    now, closed, unsent = utcnow(), [], {}
    children = Ticket.select().where((Ticket.master == master.id) & (Ticket.tenant == master.tenant_id)
                                     & Ticket.state.not_in(workflow.FINAL_STATES))
    for child in children:
        spec = workflow.child_closing_message(master.id, text, child.channel)
        recipient, mailed = _contact_for(child, spec.channel), False
        if spec.channel == "mail":
            try:
                mailed = bool(outbound.queue_mail(scope, child, spec, recipient))
            except outbound.Unsendable as exc:
                unsent[str(child.id)] = str(exc)
        if not mailed:
            _insert_message(scope, child, {"channel": spec.channel, "direction": spec.direction, "kind": spec.kind,
                                           "recipient": recipient, "subject": child.subject, "body": spec.body})
        Ticket.update(state="done", closed_at=now, updated_at=now).where(Ticket.id == child.id).execute()
        scope.audit("action.done", child, detail={"master_id": master.id, "mailed": mailed})
        closed.append(child.id)
    return closed, unsent


def _contact_for(ticket: Ticket, channel: str) -> str:
    if ticket.customer_id is None:
        return ""
    kind = {"mail": "email", "sms": "phone", "phone": "phone", "fax": "phone"}.get(channel, "email")
    ident = (CustomerIdentifier.select().where((CustomerIdentifier.customer == ticket.customer_id)
                                               & (CustomerIdentifier.kind == kind))
             .order_by(CustomerIdentifier.id).first())
    return ident.value if ident else ""


LINK_SCHEMA = Schema("link", (Field("master_id", "id", nullable=True),))


def link(scope: Scope, ticket_id: int, raw: Any) -> dict[str, Any]:
    """Link a ticket to a master (outage) ticket, or unlink it with null (D13)."""
    scope.require(Perm.TICKETS_WRITE)
    data = LINK_SCHEMA.validate(raw)
    if "master_id" not in data:
        raise ValidationError({"master_id": "is required (null unlinks)"})
    ticket = scope.get(Ticket, ticket_id, for_update=True)
    master_id = data["master_id"]
    if master_id is not None:
        master = scope.ref(Ticket, master_id, "master_id", ticket.tenant_id)
        if master.id == ticket.id or master.master_id is not None:
            raise ValidationError({"master_id": "must be another ticket that is not itself linked"})
        if Ticket.select().where(Ticket.master == ticket.id).exists():
            raise ValidationError({"master_id": "this ticket is a master; it cannot be linked below another"})
    Ticket.update(master=master_id, updated_at=utcnow()).where(Ticket.id == ticket.id).execute()
    scope.audit("link", ticket, detail=data)
    return TicketResource().to_json(scope, Ticket.get_by_id(ticket.id))


STEP_SCHEMA = Schema("step", (Field("name", required=True, max_length=200), Field("team_id", "id", nullable=True)))


def _step_json(s: TicketStep) -> dict[str, Any]:
    return {"id": s.id, "ticket_id": s.ticket_id, "position": s.position, "name": s.name, "team_id": s.team_id,
            "done_by_id": s.done_by_id, "done_at": to_jsonable(s.done_at)}


def add_step(scope: Scope, ticket_id: int, raw: Any) -> dict[str, Any]:
    """Append a back-office step to a ticket's workflow (F9)."""
    scope.require(Perm.TICKETS_WRITE)
    ticket = scope.get(Ticket, ticket_id, for_update=True)
    data = STEP_SCHEMA.validate(raw)
    scope.ref(Team, data.get("team_id"), "team_id", ticket.tenant_id)
    if ticket.state in workflow.FINAL_STATES:
        raise Conflict(f"ticket {ticket.id} is {ticket.state}")
    last = TicketStep.select(peewee.fn.MAX(TicketStep.position)).where(TicketStep.ticket == ticket.id).scalar()
    step = TicketStep.create(tenant=ticket.tenant_id, ticket=ticket.id, position=(last or 0) + 1,
                             name=data["name"], team=data.get("team_id"))
    scope.audit("step.add", ticket, detail=data)
    return _step_json(step)


def complete_step(scope: Scope, ticket_id: int, step_id: int) -> dict[str, Any]:
    """Mark the next open back-office step done; steps are done in order."""
    scope.require(Perm.TICKETS_WRITE)
    ticket = scope.get(Ticket, ticket_id, for_update=True)
    step = scope.get(TicketStep, step_id)
    if step.ticket_id != ticket.id:
        raise ValidationError({"step_id": "belongs to another ticket"})
    steps = [(s.position, s.done_at is not None) for s in TicketStep.select().where(TicketStep.ticket == ticket.id)]
    if step.done_at is not None or workflow.next_open_step(steps) != step.position:
        raise Conflict("only the next open step can be completed")
    if step.team_id is not None and step.team_id not in scope.actor.team_ids and not scope.can(Perm.TICKETS_ASSIGN):
        raise Forbidden("this step belongs to another team")
    TicketStep.update(done_at=utcnow(), done_by=scope.actor.user_id).where(TicketStep.id == step.id).execute()
    scope.audit("step.done", ticket, detail={"step_id": step.id})
    return _step_json(TicketStep.get_by_id(step.id))


def list_steps(scope: Scope, ticket_id: int) -> list[dict[str, Any]]:
    """A ticket's back-office steps in order."""
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    return [_step_json(s) for s in scope.query(TicketStep).where(TicketStep.ticket == ticket.id)
            .order_by(TicketStep.position)]


_ABILITY_SQL = ('SELECT us.skill_id, us.level, s.kind, s.code FROM user_skill us JOIN skill s ON s.id = us.skill_id '
                'WHERE us.user_id = {p} AND s.active = {p}')
# One indexed LIMIT 1 per (skill, language) probe, glued into one statement: the work-queue index
# (tenant, state, owner, skill, language, priority, due_at, id) answers each part with one seek.
# Written as SQL text once because building it with the ORM costs more than running it.
_HEAD_SQL = ('SELECT * FROM (SELECT id, priority, due_at, skill_id, min_level, language, mailbox_id FROM ticket '
             'WHERE tenant_id = {p} AND state = {p} AND owner_id IS NULL AND {skill} AND language = {p} '
             'AND min_level <= {p}{mailboxes} ORDER BY priority, due_at, id LIMIT 1) AS h{n}')
_TEAMS_SQL = ('SELECT t.settings FROM team_member m JOIN team t ON t.id = m.team_id '
              'WHERE m.user_id = {p} AND t.tenant_id = {p} AND t.active = {p}')
# Unfinished tickets an agent holds; the work-queue index answers it with one seek per state.
_HELD_SQL = 'SELECT COUNT(*) FROM ticket WHERE tenant_id = {p} AND state IN ({states}) AND owner_id = {p}'
HELD_STATES = tuple(s for s in workflow.STATES if s not in workflow.FINAL_STATES)
_CLAIM_SQL = 'UPDATE ticket SET owner_id = {p}, updated_at = {p} WHERE id = {p} AND owner_id IS NULL AND state = {p}'
# One agent's picks in turn: else, under a team's cap, two picks each count the tickets held before either
# claims, and the agent ends one over the cap. PostgreSQL: a transaction-scoped advisory lock per agent
# (key space PICK_LOCK_CLASS, the user id); SQLite: the database's write lock, taken before the count.
PICK_LOCK_CLASS = 0x7069636B  # "pick"
_PG_AGENT_LOCK_SQL = 'SELECT pg_advisory_xact_lock(%s, %s)'
# Not `SET id = id`: touching the key makes SQLite scan every table referencing users (messages, audit …).
_SQLITE_WRITE_LOCK_SQL = 'UPDATE "user" SET active = active WHERE id = ?'


def _param() -> str:
    return Ticket._meta.database.param


def agent_ability(user_id: int) -> worknext.AgentAbility:
    """An agent's skills with levels and language codes."""
    skills, languages = {}, set()
    rows = Ticket._meta.database.execute_sql(_ABILITY_SQL.format(p=_param()), (user_id, True)).fetchall()
    for skill_id, level, kind, code in rows:
        if kind == "language":
            languages.add(code)
        skills[skill_id] = level
    return worknext.AgentAbility(skills, frozenset(languages))


def agent_limits(tenant_id: int, user_id: int) -> worknext.WorkLimits:
    """What the agent's teams allow in the work queue: mailboxes and a cap on tickets held (F3)."""
    db = Ticket._meta.database
    teams = []
    for (text,) in db.execute_sql(_TEAMS_SQL.format(p=_param()), (user_id, tenant_id, True)).fetchall():
        try:
            settings = json.loads(text or "{}")
        except ValueError:
            continue
        if isinstance(settings, dict) and (settings.get("mailbox_ids") is not None
                                           or settings.get("max_open_tickets") is not None):
            teams.append(settings)
    if not teams:
        return worknext.NO_LIMITS
    parent_of = {}
    if any(t.get("mailbox_ids") is not None for t in teams):
        parent_of = dict(Mailbox.select(Mailbox.id, Mailbox.parent).where(Mailbox.tenant == tenant_id).tuples())
    return worknext.team_limits(teams, parent_of)


def held_tickets(tenant_id: int, user_id: int) -> int:
    """How many unfinished tickets the agent owns."""
    p = _param()
    sql = _HELD_SQL.format(p=p, states=", ".join([p] * len(HELD_STATES)))
    return Ticket._meta.database.execute_sql(sql, (tenant_id, *HELD_STATES, user_id)).fetchone()[0]


def lock_agent_picks(user_id: int) -> None:
    """Serialise this agent's picks until the transaction ends (see PICK_LOCK_CLASS)."""
    db = database_proxy.obj
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql(_PG_AGENT_LOCK_SQL, (PICK_LOCK_CLASS, user_id))
    else:
        db.execute_sql(_SQLITE_WRITE_LOCK_SQL, (user_id,))


def _heads(tenant_id: int, probes: list[worknext.Probe],
           mailboxes: frozenset[int] | None = None) -> list[worknext.Candidate]:
    parts, params = [], []
    p = _param()
    boxes, box_params = "", []
    if mailboxes is not None:
        box_params = sorted(mailboxes)
        listed = f" OR mailbox_id IN ({', '.join([p] * len(box_params))})" if box_params else ""
        boxes = f" AND (mailbox_id IS NULL{listed})"
    for probe in probes:
        for lang in probe.languages:
            skill = "skill_id IS NULL" if probe.skill_id is None else f"skill_id = {p}"
            parts.append(_HEAD_SQL.format(p=p, skill=skill, n=len(parts), mailboxes=boxes))
            params += [tenant_id, "open"] + ([] if probe.skill_id is None else [probe.skill_id])
            params += [lang, probe.max_level] + box_params
    rows = Ticket._meta.database.execute_sql(" UNION ALL ".join(parts), params).fetchall()
    due = Ticket.due_at.python_value
    return [worknext.Candidate(r[0], r[1], due(r[2]), r[3], r[4], r[5], r[6]) for r in rows]


def claim_next(tenant_id: int, user_id: int) -> int | None:
    """Choose the next work for an agent and claim it atomically; the ticket id, or None (F15).

    A team's limits apply (F3): only its mailboxes, and nothing while the agent holds the cap already.
    """
    lock_agent_picks(user_id)  # first: on SQLite a read before it would pin a snapshot the lock cannot update
    ability = agent_ability(user_id)
    limits = agent_limits(tenant_id, user_id)
    if limits.max_open is not None and limits.full(held_tickets(tenant_id, user_id)):
        return None
    probes = worknext.probes(ability)
    for _ in range(5):  # another agent may claim the same head between our read and our update
        best = worknext.choose(ability, _heads(tenant_id, probes, limits.mailboxes), limits)
        if best is None:
            return None
        cursor = Ticket._meta.database.execute_sql(_CLAIM_SQL.format(p=_param()),
                                                   (user_id, utcnow(), best.id, "open"))
        if cursor.rowcount == 1:
            return best.id
    return None


def pick_next(scope: Scope) -> dict[str, Any] | None:
    """The next work for the acting agent, claimed for them and audited; None when nothing fits."""
    scope.require(Perm.TICKETS_WRITE)
    if scope.actor.tenant_id is None or scope.actor.user_id is None:
        raise Forbidden("only a tenant's agents take work")
    ticket_id = claim_next(scope.actor.tenant_id, scope.actor.user_id)
    if ticket_id is None:
        return None
    ticket = Ticket.get_by_id(ticket_id)
    scope.audit("pick_next", ticket)
    return TicketResource().to_json(scope, ticket)


def customer_of(scope: Scope, ticket: Ticket) -> Customer | None:
    """The ticket's customer if the actor may see it (ownership applies to tickets' customers too)."""
    if ticket.customer_id is None:
        return None
    return scope.query(Customer).where(Customer.id == ticket.customer_id).first()
