"""Ticket hints on the desk socket (issue 6): a new message, a new ticket or a change reaches a desk only when its
user may see the ticket (own tenant; own, listed or shown ticket; else a bare queue nudge within the mailboxes their
teams may take from), never another tenant's or another team's mailbox's ticket."""
from __future__ import annotations

import json
import ssl

import aiohttp

from tests.appliance.api.client import tenant_with_admin, user_client
from tests.appliance.webui.helpers import login
from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup


async def _until_marker(ws, marker_ticket: int) -> list[dict]:
    """Every ticket hint up to and including the one about `marker_ticket`. The hints leave in the order the bus
    got the events, so whatever an earlier event would have sent has arrived before the marker."""
    got: list[dict] = []
    while True:
        data = json.loads((await ws.receive(timeout=20)).data)
        if data["type"] != "ticket":
            continue
        got.append(data["data"])
        if data["data"].get("ticket_id") == marker_ticket:
            return got


async def _roundtrip(ws, message: dict) -> None:
    """Send a message to the socket and wait until it is handled (the ping after it is answered after it)."""
    await ws.send_str(json.dumps(message))
    await ws.send_str("ping")
    while json.loads((await ws.receive(timeout=10)).data)["type"] != "pong":
        pass


async def test_ticket_hints_reach_only_desks_that_may_see_the_ticket(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, mine = office["acme"], office["ticket"]
    support = office["mailbox"]
    billing = await acme.post("/mailboxes", {"name": "Billing"})
    team = await acme.post("/teams", {"name": "Support team", "settings": {"mailbox_ids": [support["id"]]}})
    await acme.post("/teams", {"name": "Billing team", "settings": {"mailbox_ids": [billing["id"]]}})
    await acme.patch(f"/users/{office['agent']['id']}", {"team_ids": [team["id"]]})
    colleague, _ = await user_client(acme, "carl")
    _, beta_admin = await tenant_with_admin(office["admin"], "Beta")
    bert, _ = await user_client(beta_admin, "bert")
    theirs = await beta_admin.post("/tickets", {"subject": "Geheim bei Beta", "owner_id": bert["id"],
                                                "channel": "mail"})

    await login(http, "agnes", AGENT_PASSWORD)
    ctx = ssl.create_default_context(cafile=str(appliance.data.cert))
    async with aiohttp.ClientSession(base_url=f"https://localhost:{appliance.web_port}",
                                     connector=aiohttp.TCPConnector(ssl=ctx), cookie_jar=aiohttp.CookieJar()) as other:
        await login(other, "bert", "bert-Pass-123")
        async with http.ws_connect("/ws?view=desk") as desk, other.ws_connect("/ws?view=desk") as stranger:
            await _roundtrip(desk, {"watch": "list", "ids": [mine["id"]]})
            # Beta's agent names Acme's ticket: the scoped accessor drops it, so Acme's events stay at Acme.
            await _roundtrip(stranger, {"watch": "list", "ids": [mine["id"], theirs["id"]]})
            await _roundtrip(stranger, {"watch": "ticket", "id": mine["id"]})

            # Another team's mailbox, another tenant: nothing. Acme's own queue (Support): a nudge, no id.
            private = await acme.post("/tickets", {"subject": "Billing only", "mailbox_id": billing["id"],
                                                   "channel": "mail"})
            await acme.post(f"/tickets/{private['id']}/messages", {"body": "Rechnung", "sender": "x@example.com"})
            await beta_admin.post(f"/tickets/{theirs['id']}/messages", {"body": "hej", "sender": "kund@example.se"})
            await acme.post("/tickets", {"subject": "Für alle", "mailbox_id": support["id"], "channel": "mail"})
            await acme.post(f"/tickets/{mine['id']}/messages", {"body": "Noch da?", "sender": "zbigniew@example.pl"})
            got = await _until_marker(desk, mine["id"])
            assert got[:-1] == [{"kind": "ticket.created", "queue": True}]  # no id, no subject of the queue's ticket
            last = got[-1]
            assert last["kind"] == "message.received" and last["mine"] is True and last["from"] == "zbigniew@example.pl"
            assert isinstance(last["message_id"], int)
            assert private["id"] not in [g.get("ticket_id") for g in got]

            # The ticket goes to a colleague: the desk that lists it still hears it (its list must drop it).
            await acme.post(f"/tickets/{mine['id']}/actions", {"action": "assign", "user_id": colleague["id"]})
            moved = (await _until_marker(desk, mine["id"]))[-1]
            assert moved["kind"] == "ticket.updated" and moved["mine"] is False

            again = await beta_admin.post(f"/tickets/{theirs['id']}/messages", {"body": "igen",
                                                                                 "sender": "kund@example.se"})
            seen = await _until_marker(stranger, theirs["id"])
            seen += await _until_marker(stranger, theirs["id"])  # Beta's two messages, and nothing of Acme's between
            assert [(g["ticket_id"], g["mine"], g["kind"]) for g in seen] == [(theirs["id"], True, "message.received")] * 2
            assert seen[-1]["message_id"] == again["id"]
            assert not any("Geheim" in json.dumps(g) or "Billing" in json.dumps(g) for g in got + seen)


            # The count the nudge refreshes: open, nobody's, in a mailbox the agent's teams may take from.
            async with http.get("/desk/work") as r:
                assert (await r.json())["queue_count"] == 1  # "Für alle"; not Billing's, not Beta's

    # An SLA escalation reached on one of the agent's tickets stays an alert on the home page after a reload (G14).
    from appliance.models import Ticket
    agnes_id = office["agent"]["id"]
    await appliance.db.call(lambda: Ticket.update(owner=agnes_id, escalation_level=1)
                            .where(Ticket.id == private["id"]).execute())
    async with http.get("/desk/work") as r:
        assert {"kind": "escalated", "count": 1} in (await r.json())["alerts"]
