"""The ACD over HTTP: wallboard snapshot and websocket, agent state, call control, history, queue scripts."""
from __future__ import annotations

import asyncio
import json

from tests.appliance.webui.helpers import csrf_from, login, login_admin


async def admin(http, first_boot) -> str:
    await login_admin(http, first_boot.admin_password)
    return await csrf_from(http, "/admin")


async def test_snapshot_and_websocket_push_the_demo_acd(appliance, first_boot, http) -> None:
    await admin(http, first_boot)
    async with http.get("/api/v1/acd/snapshot") as r:
        snap = await r.json()
    assert r.status == 200 and snap["demo"] is True
    assert {q["id"] for q in snap["queues"]} == {"support", "sales"}
    assert len(snap["agents"]) == 8 and {a["state"] for a in snap["agents"]} <= {"ready", "busy", "reserved",
                                                                                  "wrap_up", "paused"}
    async with http.ws_connect("/ws") as ws:
        msg = json.loads((await ws.receive(timeout=5)).data)
        assert msg["type"] == "snapshot" and msg["data"]["queues"]
    async with http.get("/wallboard") as r:
        page = await r.text()
        assert r.status == 200 and "/static/wallboard.js" in page


async def test_queue_script_is_validated_and_activated_live(appliance, first_boot, http) -> None:
    from appliance.models import Tenant
    from appliance.models.acd import AcdQueue
    await appliance.db.call(lambda: AcdQueue.create(tenant=Tenant.create(name="Acme"), key="support",
                                                    name="Support"))
    token = await admin(http, first_boot)
    headers = {"X-CSRF-Token": token}
    bad = "play welcome\nwhen wiat > 3:\n    hangup\nqueue\n"
    async with http.post("/api/v1/acd/queues/support/script", json={"text": bad}, headers=headers) as r:
        body = await r.json()
    assert r.status == 400 and body["problems"][0]["line"] == 2 and "wiat" in body["problems"][0]["message"]
    good = "announce position\nqueue\n"
    async with http.post("/api/v1/acd/queues/support/script", json={"text": good, "activate": True},
                         headers=headers) as r:
        body = await r.json()
    assert r.status == 201 and body == {"version": 1, "active": True, "live": True}
    bridge = appliance.supervisor.service("pbx_bridge").bridge
    assert bridge.scripts["support"].source == good
    async with http.get("/api/v1/acd/queues/support/script") as r:
        assert (await r.json())["items"][0]["active"] is True
    async with http.post("/api/v1/acd/queues/support/script", json={"text": good}) as r:
        assert r.status == 403  # no CSRF header: refused


async def test_calls_end_up_in_the_history_and_csv(appliance, first_boot, http) -> None:
    await admin(http, first_boot)
    service = appliance.supervisor.service("pbx_bridge")
    pbx = service.bridge.adapter
    pbx.time_scale = 0.001  # the simulated callers and agents hurry up
    service.bridge.time_scale = 0.001
    for _ in range(5):
        pbx.arrive(pbx.traffic[0])
    for _ in range(300):
        async with http.get("/api/v1/calls?limit=2") as r:
            page = await r.json()
        if len(page["items"]) == 2 and page["next"]:
            break
        await asyncio.sleep(0.05)
    assert page["next"] is not None and page["items"][0]["outcome"] in ("answered", "abandoned")
    async with http.get(f"/api/v1/calls?limit=2&cursor={page['next']}") as r:
        second = await r.json()
    assert not {i["call_id"] for i in page["items"]} & {i["call_id"] for i in second["items"]}
    async with http.get("/api/v1/calls.csv") as r:
        text = await r.text()
    assert text.splitlines()[0].startswith("call_id,direction,caller")
    async with http.get("/api/v1/calls?since=yesterday") as r:
        assert r.status == 400 and (await r.json())["field"] == "since"


async def test_agent_without_a_phone_profile_and_with_one(appliance, first_boot, http) -> None:
    from appliance.models import Tenant, User
    from appliance.models.acd import AgentPhone
    from appliance.security.passwords import hash_password

    def make():
        tenant = Tenant.create(name="Acme")
        agent = User.create(username="agnes", role="agent", password_hash=hash_password("Agent-Pass-123"),
                            tenant=tenant) if hasattr(User, "tenant") else User.create(
            username="agnes", role="agent", password_hash=hash_password("Agent-Pass-123"))
        return tenant, agent

    tenant, agent = await appliance.db.call(make)
    await login(http, "agnes", "Agent-Pass-123")
    token = await csrf_from(http, "/wallboard")
    async with http.get("/api/v1/acd/me") as r:
        assert r.status == 404 and (await r.json())["error"] == "no_phone_profile"
    async with http.post("/api/v1/acd/me/ready", json={}, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 404 and (await r.json())["error"] == "no_phone_profile"
    from appliance.domain.acd import Agent
    bridge = appliance.supervisor.service("pbx_bridge").bridge
    bridge.engine.add_agent(Agent(f"u{agent.id}", extension="2001"))
    await appliance.db.call(lambda: AgentPhone.create(user=agent.id, tenant=tenant, extension="2001"))
    h = {"X-CSRF-Token": token}
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert (await r.json())["state"] == "ready"
    async with http.post("/api/v1/acd/me/pause", json={"reason": "coffee"}, headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "reason"
    async with http.post("/api/v1/acd/me/pause", json={"reason": "lunch"}, headers=h) as r:
        assert (await r.json()) == {"state": "paused", "reason": "lunch", "mode": "inbound",
                                      "phone": None}
    async with http.post("/api/v1/acd/me/login", json={}, headers=h) as r:
        assert r.status == 409  # already logged in
    async with http.post("/api/v1/acd/calls/sim-404/answer", headers=h) as r:
        assert r.status == 404
    async with http.get("/api/v1/acd/decisions") as r:
        assert r.status == 403  # agents do not see the routing of others
