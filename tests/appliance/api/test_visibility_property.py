"""Property: in random organisations no user ever sees another tenant's customer, nor another owner's
private customer, nor a group customer outside their teams (F7, D4, H4), nor the documents in such a
customer's record (D2) — through the scoped accessor that every API handler uses."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.db import Database
from appliance.domain.errors import NotFound
from appliance.models import TeamMember, Team, Tenant, User
from appliance.models.access import Scope, documents, load_actor
from appliance.models.access.customers import CustomerResource, local_lookup

_serial = itertools.count()

customer_st = st.tuples(st.integers(0, 3), st.sampled_from(["private", "group", "enterprise"]),
                        st.one_of(st.none(), st.integers(0, 2)))
tenant_st = st.fixed_dictionaries({
    "teams": st.integers(0, 3),
    "users": st.lists(st.frozensets(st.integers(0, 2), max_size=3), min_size=1, max_size=4),
    "customers": st.lists(customer_st, max_size=6),
})


@pytest.fixture
def db(database_url: str):
    """A migrated database, connected for the test's thread."""
    database = Database(database_url)
    database.migrate()
    with database.peewee.connection_context():
        yield database
    database.close()


def _build(org: list[dict]) -> tuple[list[User], dict[int, dict]]:
    """Create the organisation; returns users and, per customer id, what decides who sees it."""
    users, facts = [], {}
    for spec in org:
        tenant = Tenant.create(name=f"T{next(_serial)}")
        teams = [Team.create(tenant=tenant, name=f"team{i}") for i in range(spec["teams"])]
        members = []
        for team_idx in spec["users"]:
            user = User.create(username=f"u{next(_serial)}", password_hash="-", tenant=tenant)
            for i in sorted(team_idx):
                if i < len(teams):
                    TeamMember.create(tenant=tenant, team=teams[i], user=user)
            members.append(user)
        users += members
        for creator, ownership, team_idx in spec["customers"]:
            owner = members[creator % len(members)]
            scope = Scope(load_actor(owner.id))
            body = {"name": f"c{next(_serial)}", "ownership": ownership, "emails": [f"c{next(_serial)}@x.example"]}
            if team_idx is not None and team_idx < len(teams):
                body["owner_team_id"] = teams[team_idx].id
            item = CustomerResource().create(scope, body)
            doc = documents.file_upload(scope, documents.Target(item["id"]), "a" * 64, "file.pdf", "application/pdf", 1)
            facts[item["id"]] = {"tenant": tenant.id, "ownership": ownership, "owner": owner.id,
                                 "team": item["owner_team_id"], "email": item["emails"][0], "document": doc["id"]}
    return users, facts


def _may_see(user: User, teams: set[int], fact: dict) -> bool:
    if fact["tenant"] != user.tenant_id:
        return False
    if fact["ownership"] == "enterprise" or fact["owner"] == user.id:
        return True
    return fact["ownership"] == "group" and fact["team"] in teams


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(org=st.lists(tenant_st, min_size=2, max_size=3))
def test_nobody_sees_foreign_or_private_customers(db, org) -> None:
    with db.peewee.atomic() as txn:
        users, facts = _build(org)
        for user in users:
            scope = Scope(load_actor(user.id))
            teams = set(scope.actor.team_ids)
            listed, cursor = set(), ""
            while True:
                page = CustomerResource().list(scope, {"limit": "3", "cursor": cursor})
                listed |= {c["id"] for c in page.items}
                if page.next is None:
                    break
                cursor = page.next
            expected = {cid for cid, fact in facts.items() if _may_see(user, teams, fact)}
            assert listed & set(facts) == expected
            for cid, fact in facts.items():
                visible = cid in expected
                try:
                    CustomerResource().get(scope, cid)
                    assert visible, (user.id, cid, fact)
                except NotFound:
                    assert not visible, (user.id, cid, fact)
                assert (local_lookup(scope, "email", fact["email"]) == [cid]) == visible
                try:
                    documents.for_download(scope, fact["document"])
                    assert visible, (user.id, fact["document"], fact)
                except NotFound:
                    assert not visible, (user.id, fact["document"], fact)
        txn.rollback()  # each example starts from an empty organisation
