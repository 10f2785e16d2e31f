"""A team's cap on tickets held (F3, F15) holds when two picks of the same agent overlap, on SQLite and
PostgreSQL: the second pick waits for the first to commit, then counts its ticket and takes none."""
from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from appliance.db import Database
from appliance.models import Team, TeamMember, Tenant, Ticket, User
from appliance.models.access.tickets import claim_next
from appliance.models.auth import utcnow


@pytest.fixture
def db(database_url: str):
    """A migrated database."""
    database = Database(database_url)
    database.migrate()
    yield database
    database.close()


def capped_agent(db: Database, cap: int, tickets: int) -> tuple[int, int]:
    with db.peewee.connection_context(), db.peewee.atomic():
        tenant = Tenant.create(name="Acme")
        team = Team.create(tenant=tenant, name="Billing", settings=json.dumps({"max_open_tickets": cap}))
        agent = User.create(username="anna", password_hash="-", tenant=tenant)
        TeamMember.create(tenant=tenant, team=team, user=agent)
        for i in range(tickets):
            Ticket.create(tenant=tenant, subject=f"t{i}", due_at=utcnow())
        return tenant.id, agent.id


def test_an_overlapping_pick_waits_and_respects_the_cap(db) -> None:
    tenant_id, agent_id = capped_agent(db, cap=1, tickets=2)
    first_claimed, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:
        with db.peewee.connection_context(), db.peewee.atomic():
            results["first"] = claim_next(tenant_id, agent_id)
            first_claimed.set()
            release.wait(30)  # the transaction stays open while the second pick starts

    def second() -> None:
        try:
            with db.peewee.connection_context(), db.peewee.atomic():
                results["second"] = claim_next(tenant_id, agent_id)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results["second"] = exc

    a = threading.Thread(target=first)
    a.start()
    assert first_claimed.wait(30)
    b = threading.Thread(target=second)
    b.start()
    b.join(1.0)  # with the per-agent lock, the second pick is still waiting here
    release.set()
    a.join(30)
    b.join(30)
    assert results["first"] is not None
    assert results["second"] is None, f"second pick took {results['second']!r} past the cap of 1"
    with db.peewee.connection_context():
        assert Ticket.select().where(Ticket.owner == agent_id).count() == 1

