"""Next work under a team's cap (F3, F15) when one agent's picks arrive together, through HTTP on SQLite and
PostgreSQL: the agent ends holding exactly the cap, every other pick answers 204."""
from __future__ import annotations

import asyncio

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client


async def test_simultaneous_picks_of_one_agent_stop_at_the_cap(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    team = await acme.post("/teams", {"name": "Billing", "settings": {"max_open_tickets": 2}})
    _, agent = await user_client(acme, "anna", team_ids=[team["id"]])
    for i in range(6):
        await acme.post("/tickets", {"subject": f"invoice {i}"})

    answers = await asyncio.gather(*(agent.call("POST", "/tickets/next") for _ in range(8)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200] + [204] * 6, answers
    taken = {body["id"] for status, body in answers if status == 200}
    owner = next(body["owner_id"] for status, body in answers if status == 200)
    held = await acme.get("/tickets", owner_id=owner)
    assert {t["id"] for t in held["items"]} == taken and len(taken) == 2
