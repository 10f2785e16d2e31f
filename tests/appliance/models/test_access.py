"""The data layer under the API: SLA escalation, the work queue's claim, scopes without a tenant."""
from __future__ import annotations

import datetime as dt

import pytest

from appliance.db import Database
from appliance.domain.errors import Forbidden, NotFound
from appliance.models import Message, Skill, SlaPolicy, Tenant, Ticket, User, UserSkill
from appliance.models.access import Scope, load_actor
from appliance.models.access.tickets import (TicketResource, apply_action, claim_next, escalate_due, pick_next,
                                              wake_resubmissions)


@pytest.fixture
def db(database_url: str):
    """A migrated database, connected for the test's thread."""
    database = Database(database_url)
    database.migrate()
    with database.peewee.connection_context():
        yield database
    database.close()


def test_sla_escalation_steps_apply_once(db) -> None:
    tenant = Tenant.create(name="T", timezone="UTC")
    user = User.create(username="u", password_hash="-", tenant=tenant)
    policy = SlaPolicy.create(tenant=tenant, name="fast", response_minutes=10, resolve_minutes=60,
                              escalations='[{"at_percent": 50, "action": "notify_owner"},'
                                          ' {"at_percent": 100, "action": "raise_priority"}]')
    item = TicketResource().create(Scope(load_actor(user.id)), {"subject": "s", "sla_id": policy.id, "priority": 3})
    ticket = Ticket.get_by_id(item["id"])
    assert ticket.due_at - ticket.created_at == dt.timedelta(hours=1)
    assert escalate_due(ticket.created_at + dt.timedelta(minutes=20)) == []
    assert escalate_due(ticket.created_at + dt.timedelta(minutes=31)) == [(ticket.id, 1, "notify_owner")]
    assert escalate_due(ticket.created_at + dt.timedelta(minutes=40)) == []
    assert escalate_due(ticket.created_at + dt.timedelta(minutes=61)) == [(ticket.id, 2, "raise_priority")]
    ticket = Ticket.get_by_id(ticket.id)
    assert (ticket.priority, ticket.escalation_level) == (2, 2)
    notes = [m.body for m in Message.select().where(Message.ticket == ticket.id, Message.kind == "system")]
    assert len(notes) == 2 and "notify_owner" in notes[0]


def test_claim_is_exclusive_and_skill_bound(db) -> None:
    tenant = Tenant.create(name="T")
    other = Tenant.create(name="O")
    skill = Skill.create(tenant=tenant, name="s")
    a = User.create(username="a", password_hash="-", tenant=tenant)
    b = User.create(username="b", password_hash="-", tenant=tenant)
    UserSkill.create(tenant=tenant, user=a, skill=skill, level=2)
    now = dt.datetime(2025, 1, 1)
    mk = lambda t, **kw: Ticket.create(tenant=t, subject="x", due_at=now, **kw).id  # noqa: E731
    mine = mk(tenant, skill=skill, min_level=2, priority=1)
    mk(tenant, skill=skill, min_level=3, priority=1)  # level too high for a
    mk(other, priority=1)  # another tenant's
    plain = mk(tenant, priority=4)
    assert claim_next(tenant.id, a.id) == mine
    assert claim_next(tenant.id, b.id) == plain  # b has no skill: only the plain ticket fits
    assert claim_next(tenant.id, a.id) is None
    assert Ticket.get_by_id(mine).owner_id == a.id and Ticket.get_by_id(plain).owner_id == b.id


def test_a_tenantless_non_admin_sees_nothing(db) -> None:
    tenant = Tenant.create(name="T")
    ticket = Ticket.create(tenant=tenant, subject="x", due_at=dt.datetime(2025, 1, 1))
    stray = User.create(username="stray", password_hash="-", role="supervisor")
    scope = Scope(load_actor(stray.id))
    with pytest.raises(NotFound):
        scope.get(Ticket, ticket.id)
    assert TicketResource().list(scope, {}).items == []
    with pytest.raises(Forbidden):
        pick_next(scope)


def test_resubmitted_tickets_come_back_when_due(db) -> None:
    tenant = Tenant.create(name="T")
    user = User.create(username="u", password_hash="-", tenant=tenant)
    scope = Scope(load_actor(user.id))
    item = TicketResource().create(scope, {"subject": "later"})
    apply_action(scope, item["id"], {"action": "resubmit", "until": "2999-01-01T08:00:00Z"})
    assert wake_resubmissions(dt.datetime(2998, 12, 31)) == []
    assert claim_next(tenant.id, user.id) is None  # snoozed tickets are not in the work queue
    assert wake_resubmissions(dt.datetime(2999, 1, 1, 8, 0)) == [item["id"]]
    assert Ticket.get_by_id(item["id"]).state == "open"
    assert claim_next(tenant.id, user.id) == item["id"]
