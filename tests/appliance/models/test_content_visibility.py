"""Property: in random organisations a user lists, reads, renders and expands exactly the text blocks they may
see (their own personal ones, their teams', their tenant's), never another tenant's or another person's,
and the #shortcut the desk expands is the nearest one (personal over team over tenant)."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.db import Database
from appliance.domain.errors import NotFound
from appliance.models import Team, TeamMember, Tenant, Ticket, User
from appliance.models.access import Scope, load_actor
from appliance.models.auth import utcnow
from appliance.models.access.content import TextBlockResource, reply_options, render_block
from appliance.models.content import TextBlock

_serial = itertools.count()
block_st = st.tuples(st.integers(0, 3), st.sampled_from(["personal", "team", "tenant"]), st.integers(0, 2),
                     st.sampled_from(["a", "b"]))
tenant_st = st.fixed_dictionaries({
    "teams": st.integers(1, 3),
    "users": st.lists(st.frozensets(st.integers(0, 2), max_size=3), min_size=1, max_size=4),
    "blocks": st.lists(block_st, max_size=8),
})
RANK = {"personal": 0, "team": 1, "tenant": 2}


@pytest.fixture
def db(database_url: str):
    """A migrated database, connected for the test's thread."""
    database = Database(database_url)
    database.migrate()
    with database.peewee.connection_context():
        yield database
    database.close()


def _build(org: list[dict]) -> tuple[list[User], dict[int, dict], dict[int, int]]:
    """The organisations; users, what decides who sees each block, and one ticket per tenant."""
    users, facts, tickets = [], {}, {}
    for spec in org:
        tenant = Tenant.create(name=f"T{next(_serial)}")
        tickets[tenant.id] = Ticket.create(tenant=tenant, subject="x", due_at=utcnow()).id
        teams = [Team.create(tenant=tenant, name=f"team{i}") for i in range(spec["teams"])]
        members = []
        for team_idx in spec["users"]:
            user = User.create(username=f"u{next(_serial)}", password_hash="-", tenant=tenant)
            for i in sorted(team_idx):
                if i < len(teams):
                    TeamMember.create(tenant=tenant, team=teams[i], user=user)
            members.append(user)
        users += members
        for creator, visibility, team_idx, shortcut in spec["blocks"]:
            owner = members[creator % len(members)]
            team = teams[team_idx % len(teams)]
            # Written straight into the table: this property is about reading; writing rights are tested over HTTP.
            block = TextBlock.create(tenant=tenant, visibility=visibility, shortcut=shortcut, title="t",
                                     body_text=f"secret of {owner.id}",
                                     owner=owner if visibility == "personal" else None,
                                     team=team if visibility == "team" else None)
            facts[block.id] = {"tenant": tenant.id, "visibility": visibility, "owner": owner.id, "team": team.id,
                               "shortcut": shortcut}
    return users, facts, tickets


def _may_see(user: User, teams: set[int], fact: dict) -> bool:
    if fact["tenant"] != user.tenant_id:
        return False
    return (fact["visibility"] == "tenant" or (fact["visibility"] == "personal" and fact["owner"] == user.id)
            or (fact["visibility"] == "team" and fact["team"] in teams))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(org=st.lists(tenant_st, min_size=2, max_size=3))
def test_users_see_exactly_their_text_blocks(db, org) -> None:
    with db.peewee.atomic() as txn:
        users, facts, tickets = _build(org)
        for user in users:
            scope = Scope(load_actor(user.id))
            teams = set(scope.actor.team_ids)
            wanted = {bid for bid, f in facts.items() if _may_see(user, teams, f)}
            listed = {item["id"] for item in TextBlockResource().list(scope, {"limit": "1000"}).items}
            assert listed == wanted
            for bid in facts:
                if bid in wanted:
                    assert render_block(scope, bid, {"ticket_id": tickets[user.tenant_id]})["text"]
                else:
                    with pytest.raises(NotFound):
                        TextBlockResource().get(scope, bid)
                    with pytest.raises(NotFound):
                        render_block(scope, bid, {})
            options = reply_options(scope, tickets[user.tenant_id])
            for shortcut, bid in options["shortcuts"].items():
                best = min(RANK[f["visibility"]] for b, f in facts.items() if b in wanted and f["shortcut"] == shortcut)
                assert bid in wanted and RANK[facts[bid]["visibility"]] == best
            assert set(options["shortcuts"]) == {facts[b]["shortcut"] for b in wanted}
        txn.rollback()
