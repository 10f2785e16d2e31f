"""IVR verification mid-call and back (B12) over HTTP with the simulator: the agent sends the customer to enter
their customer number while waiting; the customer comes back to the same agent and the result reaches the desk
as a call.parties event: verified (with the customer), another customer's number, nothing entered, or plain
digits; refused for a wrong kind, for someone else's call, and during a consultation."""
from __future__ import annotations

import asyncio
import json

from appliance.pbx.simulated import SimTraffic
from tests.appliance.webui.test_desk import _agent_session, office_setup

HOTLINE = SimTraffic("hotline", "+4940555000", 0, handle_mean_s=1e9, patience_mean_s=None)  # talks until told


async def parties_event(ws, state: str, timeout: float = 10.0) -> dict:
    """The next call.parties event whose verification has this state."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = json.loads((await ws.receive(timeout=max(0.1, deadline - loop.time()))).data)
        verification = (msg["data"] or {}).get("verification") if msg["type"] == "call.parties" else None
        if verification and verification["state"] == state:
            return msg["data"]


async def test_the_customer_verifies_in_the_ivr_and_comes_back_to_the_same_agent(appliance, first_boot,
                                                                                 http) -> None:
    office = await office_setup(appliance, first_boot, http)
    other = await office["acme"].post("/customers", {"name": "Olga Other", "number": "100234"})
    bridge, pbx = office["bridge"], office["bridge"].adapter
    token = await _agent_session(http, office)
    h = {"X-CSRF-Token": token}
    me = f"u{office['agent']['id']}"
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert r.status == 200
    pbx.time_scale = 0.002
    async with http.ws_connect("/ws?view=desk") as ws:
        call_id = pbx.arrive(HOTLINE, caller="+4940999000")  # a number nobody knows
        for _ in range(500):
            if bridge.engine.agent(me).state.value == "reserved":
                break
            await asyncio.sleep(0.02)
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", headers=h) as r:
            assert r.status == 409, "only once the agent has the call"
        async with http.post(f"/api/v1/acd/calls/{call_id}/answer", headers=h) as r:
            assert r.status == 200
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", json={"kind": "pin"}, headers=h) as r:
            assert r.status == 400 and (await r.json())["field"] == "kind"

        pbx.verify_answers["+4940999000"] = "100234"
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", json={"kind": "customer_number"},
                             headers=h) as r:
            view = await r.json()
            assert r.status == 200 and view["verification"]["state"] == "collecting"
            assert view["parties"][0] == {"role": "customer", "name": "+4940999000", "state": "verifying"}
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", headers=h) as r:
            assert r.status == 409, "one verification at a time"
        done = await parties_event(ws, "verified")
        assert done["agent_id"] == me and done["lead"] == me, "back with the same agent"
        assert done["verification"]["customer"] == {"id": other["id"], "name": "Olga Other", "number": "100234"}
        assert done["verification"]["digits"] == "100234" and done["parties"][0]["state"] == "connected"
        assert bridge.engine.agent(me).state.value == "busy" and bridge.engine.call(call_id).agent_id == me

        pbx.verify_answers["+4940999000"] = ""
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", headers=h) as r:
            assert r.status == 200
        assert (await parties_event(ws, "no_input"))["verification"]["digits"] == ""
        pbx.verify_answers["+4940999000"] = "4711"
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", json={"kind": "digits"}, headers=h) as r:
            assert r.status == 200
        assert (await parties_event(ws, "entered"))["verification"]["digits"] == "4711"

        pbx.unanswered_targets.add("+4930666")
        pbx.consult_ring_s = 1_000_000
        async with http.post(f"/api/v1/acd/calls/{call_id}/consult", json={"target": "+4930666"}, headers=h) as r:
            assert r.status == 200
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", headers=h) as r:
            assert r.status == 409 and "consultation" in (await r.json())["message"]
        async with http.post(f"/api/v1/acd/calls/{call_id}/consult-cancel", headers=h) as r:
            assert r.status == 200
        async with http.post(f"/api/v1/acd/calls/{call_id}/hangup", headers=h) as r:
            assert r.status == 200

    history = {}
    for _ in range(200):
        history = await office["acme"].get("/calls?caller=%2B4940999000")
        if history["items"]:
            break
        await asyncio.sleep(0.05)
    steps = [p["kind"] for p in history["items"][0]["parties"]]
    assert steps == ["verify", "verified", "verify", "no_input", "verify", "entered", "consult", "cancelled"]


async def test_a_number_of_another_customer_than_the_callers_is_a_mismatch(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    await office["acme"].post("/customers", {"name": "Olga Other", "number": "100234"})
    bridge, pbx = office["bridge"], office["bridge"].adapter
    token = await _agent_session(http, office)
    h = {"X-CSRF-Token": token}
    me = f"u{office['agent']['id']}"
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert r.status == 200
    pbx.time_scale = 0.002
    async with http.ws_connect("/ws?view=desk") as ws:
        call_id = pbx.arrive(HOTLINE, caller="+49 40 1234567")  # Zbigniew's phone
        for _ in range(500):
            if bridge.engine.agent(me).state.value == "reserved":
                break
            await asyncio.sleep(0.02)
        async with http.post(f"/api/v1/acd/calls/{call_id}/answer", headers=h) as r:
            assert r.status == 200
        pbx.verify_answers["+49 40 1234567"] = "100234"
        async with http.post(f"/api/v1/acd/calls/{call_id}/verify", headers=h) as r:
            assert r.status == 200
        result = (await parties_event(ws, "mismatch"))["verification"]
        assert result["customer"]["name"] == "Olga Other"
        async with http.post(f"/api/v1/acd/calls/{call_id}/hangup", headers=h) as r:
            assert r.status == 200
