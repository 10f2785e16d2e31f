"""Fax states pushed to the desk (`fax.status` over `/ws`): only to sockets that watch the ticket, only after the
scoped accessor let the user see it, and never across tenants; the fax service announces each state it records."""
from __future__ import annotations

import asyncio
import json
import ssl

import aiohttp

from appliance.bus import Event, EventKind
from tests.appliance.api.client import tenant_with_admin, user_client
from tests.appliance.webui.helpers import login
from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup


def _fax_event(tenant_id: int, ticket_id: int, state: str) -> Event:
    return Event(EventKind.FAX_STATUS, {"ticket_id": ticket_id, "fax": {"id": 7, "state": state}},
                 tenant_id=tenant_id)


async def _fax_pushes(ws, timeout: float) -> list[dict]:
    """Every fax.status message arriving within the timeout (other pushes skipped)."""
    got: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            msg = await ws.receive(timeout=max(0.05, deadline - loop.time()))
        except asyncio.TimeoutError:
            break
        data = json.loads(msg.data)
        if data["type"] == "fax.status":
            got.append(data["data"])
    return got


async def _watch(appliance, ws, ticket_id) -> None:
    """Name the ticket shown and wait until the hub has handled the message (a ping is answered after it)."""
    await ws.send_str(json.dumps({"watch": "ticket", "id": ticket_id}))
    await ws.send_str("ping")
    while json.loads((await ws.receive(timeout=10)).data)["type"] != "pong":
        pass


async def test_fax_states_reach_only_the_watchers_of_the_ticket_in_its_tenant(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    tenant_id, ticket_id = office["tenant"]["id"], office["ticket"]["id"]
    beta, beta_admin = await tenant_with_admin(office["admin"], "Beta")
    await user_client(beta_admin, "bert")
    await login(http, "agnes", AGENT_PASSWORD)
    ctx = ssl.create_default_context(cafile=str(appliance.data.cert))
    async with aiohttp.ClientSession(base_url=f"https://localhost:{appliance.web_port}",
                                     connector=aiohttp.TCPConnector(ssl=ctx), cookie_jar=aiohttp.CookieJar()) as other:
        await login(other, "bert", "bert-Pass-123")
        async with http.ws_connect("/ws?view=desk") as mine, http.ws_connect("/ws?view=desk") as idle, \
                other.ws_connect("/ws?view=desk") as stranger:
            await _watch(appliance, mine, ticket_id)
            await _watch(appliance, stranger, ticket_id)  # another tenant's agent guesses the ticket's id
            appliance.bus.publish(_fax_event(tenant_id, ticket_id, "sending"))
            appliance.bus.publish(_fax_event(tenant_id + 1000, ticket_id, "forged"))  # same id, other tenant
            pushed = await _fax_pushes(mine, 2.0)
            assert [p["fax"]["state"] for p in pushed] == ["sending"] and pushed[0]["ticket_id"] == ticket_id
            assert await _fax_pushes(stranger, 0.5) == []
            assert await _fax_pushes(idle, 0.5) == []  # the same agent's tab showing no ticket

            await _watch(appliance, mine, None)  # the ticket closed in the desk
            appliance.bus.publish(_fax_event(tenant_id, ticket_id, "sent"))
            assert await _fax_pushes(mine, 1.0) == []


async def test_the_fax_service_announces_queued_sending_and_sent(appliance, first_boot, http) -> None:
    from appliance.fax.lines import EMULATED_REMOTE
    office = await office_setup(appliance, first_boot, http)
    tenant_id, ticket_id = office["tenant"]["id"], office["ticket"]["id"]
    sub = appliance.bus.subscribe(EventKind.FAX_STATUS)
    outside = asyncio.create_task(appliance.supervisor.service("fax").network.receive_out(timeout=90))
    await login(http, "agnes", AGENT_PASSWORD)
    async with http.get("/desk") as r:
        token = (await r.text()).split('data-csrf="', 1)[1].split('"', 1)[0]
    async with http.post(f"/desk/tickets/{ticket_id}/faxes", data={"number": EMULATED_REMOTE, "cover": "Anbei."},
                         headers={"X-CSRF-Token": token}) as r:
        assert r.status == 201, await r.text()
        job = await r.json()
    states = []
    while not states or states[-1] not in ("sent", "failed"):
        event = await asyncio.wait_for(sub.get(), 90)
        assert event.tenant_id == tenant_id and event.data["ticket_id"] == ticket_id
        assert event.data["fax"]["id"] == job["id"]
        states.append(event.data["fax"]["state"])
    sub.close()
    assert (await asyncio.wait_for(outside, 30)).ok
    assert states[0] == "queued" and "sending" in states and states[-1] == "sent"
    assert event.data["fax"]["pages_confirmed"] == 1 and event.data["fax"]["progress"] is None
