"""The work queue's indexed SQL path with team limits (F3, F15) against a full scan, on SQLite and PostgreSQL:
random tickets, mailboxes, skills and team settings; the claimed ticket is always the scan's answer."""
from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.db import Database
from appliance.domain import worknext as wn
from appliance.models import Mailbox, Skill, Team, TeamMember, Tenant, Ticket, User, UserSkill
from appliance.models.access.tickets import claim_next

T0 = dt.datetime(2025, 1, 1)
_names = itertools.count()

ticket_st = st.fixed_dictionaries({
    "priority": st.integers(1, 5), "due": st.integers(0, 50), "box": st.sampled_from([None, 0, 1, 2, 3]),
    "skill": st.booleans(), "min_level": st.integers(1, 3), "language": st.sampled_from(["", "de", "fr"]),
    "state": st.sampled_from(["open", "open", "open", "pending", "done"]),
    "owner": st.sampled_from([None, None, "agent", "other"])})
# Most teams limit something, so most examples exercise a limit; None drops the key.
team_st = st.fixed_dictionaries({
    "mailbox_ids": st.one_of(st.none(), st.lists(st.integers(0, 3), max_size=3, unique=True)),
    "max_open_tickets": st.one_of(st.none(), st.integers(1, 3))}).map(
        lambda d: {k: v for k, v in d.items() if v is not None})


@pytest.fixture
def db(database_url: str):
    """A migrated database, connected for the test's thread."""
    database = Database(database_url)
    database.migrate()
    with database.peewee.connection_context():
        yield database
    database.close()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=st.lists(ticket_st, min_size=1, max_size=25), teams=st.lists(team_st, min_size=1, max_size=3),
       level=st.integers(0, 3), german=st.booleans())
def test_claim_with_team_limits_equals_the_scan(db, tickets, teams, level, german) -> None:
    with db.peewee.atomic() as txn:
        tenant = Tenant.create(name=f"T{next(_names)}")
        # Mailboxes 0 > 1 > 2 and 3 beside them: a team naming 0 may take from 1 and 2 as well.
        boxes: list[int] = []
        for i, parent in enumerate([None, 0, 1, None]):
            boxes.append(Mailbox.create(tenant=tenant, name=f"b{i}", parent=None if parent is None else boxes[parent]).id)
        skill = Skill.create(tenant=tenant, name="s")
        lang = Skill.create(tenant=tenant, name="de", kind="language", code="de")
        agent = User.create(username=f"a{tenant.id}", password_hash="-", tenant=tenant)
        other = User.create(username=f"o{tenant.id}", password_hash="-", tenant=tenant)
        if level:
            UserSkill.create(tenant=tenant, user=agent, skill=skill, level=level)
        if german:
            UserSkill.create(tenant=tenant, user=agent, skill=lang, level=3)
        for i, team in enumerate(teams):
            stored = {**team, "mailbox_ids": [boxes[b] for b in team["mailbox_ids"]]} if "mailbox_ids" in team else team
            row = Team.create(tenant=tenant, name=f"t{i}", settings=json.dumps(stored))
            TeamMember.create(tenant=tenant, team=row, user=agent)
        rows = [Ticket.create(tenant=tenant, subject="x", priority=t["priority"], due_at=T0 + dt.timedelta(minutes=t["due"]),
                              mailbox=None if t["box"] is None else boxes[t["box"]], skill=skill if t["skill"] else None,
                              min_level=t["min_level"], language=t["language"], state=t["state"],
                              owner={None: None, "agent": agent, "other": other}[t["owner"]]) for t in tickets]

        ability = wn.AgentAbility({skill.id: level} if level else {}, frozenset({"de"} if german else ()))
        parent_of = dict(Mailbox.select(Mailbox.id, Mailbox.parent).where(Mailbox.tenant == tenant).tuples())
        limits = wn.team_limits([json.loads(t.settings) for t in Team.select().where(Team.tenant == tenant)], parent_of)
        held = sum(1 for r in rows if r.owner_id == agent.id and r.state in ("open", "pending", "resubmission"))
        free = [wn.Candidate(r.id, r.priority, r.due_at, r.skill_id, r.min_level, r.language, r.mailbox_id)
                for r in rows if r.state == "open" and r.owner_id is None]
        expected = wn.choose_by_scan(ability, free, limits, held)
        assert claim_next(tenant.id, agent.id) == (expected.id if expected else None)
        if expected is not None:
            assert Ticket.get_by_id(expected.id).owner_id == agent.id
        txn.rollback()


def test_team_limits_in_practice(db) -> None:
    tenant = Tenant.create(name="T")
    billing = Mailbox.create(tenant=tenant, name="Billing")
    dunning = Mailbox.create(tenant=tenant, name="Dunning", parent=billing)
    sales = Mailbox.create(tenant=tenant, name="Sales")
    agent = User.create(username="a", password_hash="-", tenant=tenant)
    team = Team.create(tenant=tenant, name="Billing team",
                       settings=json.dumps({"mailbox_ids": [billing.id], "max_open_tickets": 2}))
    TeamMember.create(tenant=tenant, team=team, user=agent)
    mk = lambda box, prio: Ticket.create(tenant=tenant, subject="x", due_at=T0, mailbox=box, priority=prio).id  # noqa: E731
    urgent_sales, sub, plain, later = mk(sales, 1), mk(dunning, 2), mk(None, 3), mk(billing, 4)
    assert claim_next(tenant.id, agent.id) == sub  # Sales is not the team's; Dunning is below Billing
    assert claim_next(tenant.id, agent.id) == plain  # a ticket in no mailbox is anybody's
    assert claim_next(tenant.id, agent.id) is None  # two held: the cap
    Ticket.update(state="done").where(Ticket.id == sub).execute()
    assert claim_next(tenant.id, agent.id) == later
    assert Ticket.get_by_id(urgent_sales).owner_id is None
    team.settings = "{}"
    team.save()
    assert claim_next(tenant.id, agent.id) == urgent_sales  # without limits everything fits again
