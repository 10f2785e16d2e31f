"""Team limits for "next work" through the API (F3, F15): settings checked naming the field, then honoured."""
from __future__ import annotations

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client


async def test_team_mailbox_and_cap_limits_next_work(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    _, globex = await tenant_with_admin(admin, "Globex")
    billing = await acme.post("/mailboxes", {"name": "Billing"})
    sales = await acme.post("/mailboxes", {"name": "Sales"})
    foreign = await globex.post("/mailboxes", {"name": "G-box"})

    status, answer = await acme.call("POST", "/teams", {"name": "T", "settings": {"max_open_tickets": 0,
                                                                                "mailbox_ids": ["x"]}})
    assert status == 400 and set(answer["fields"]) == {"settings.max_open_tickets", "settings.mailbox_ids"}
    status, answer = await acme.call("POST", "/teams", {"name": "T", "settings": {"mailbox_ids": [foreign["id"]]}})
    assert status == 400 and "settings.mailbox_ids[0]" in answer["fields"]  # another tenant's mailbox

    team = await acme.post("/teams", {"name": "Billing team", "settings": {
        "mailbox_ids": [billing["id"]], "max_open_tickets": 1, "text_blocks": ["Kind regards"]}})
    _, agent = await user_client(acme, "anna", team_ids=[team["id"]])
    urgent = await acme.post("/tickets", {"subject": "sales lead", "mailbox_id": sales["id"], "priority": 1})
    mine = await acme.post("/tickets", {"subject": "invoice", "mailbox_id": billing["id"], "priority": 3})
    await acme.post("/tickets", {"subject": "another invoice", "mailbox_id": billing["id"], "priority": 4})

    assert (await agent.post("/tickets/next", {}))["id"] == mine["id"]
    assert (await agent.call("POST", "/tickets/next"))[0] == 204  # holding one: the team's cap
    await agent.post(f"/tickets/{mine['id']}/actions", {"action": "done"})
    taken = await agent.post("/tickets/next", {})
    assert taken["subject"] == "another invoice" and taken["id"] != urgent["id"]
