"""External phone mode (B12 "switch to phone", remote login by mobile) over HTTP with the simulator: an agent logs
in with an outside number instead of the extension; offers ring that number (the offer event says so) until
logout; a number not in international format is refused with the field named."""
from __future__ import annotations

import asyncio
import json

from appliance.pbx.simulated import SimTraffic
from tests.appliance.webui.test_desk import _agent_session, office_setup

HOTLINE = SimTraffic("hotline", "+4940555000", 0, handle_mean_s=1e9, patience_mean_s=None)


async def offered(ws, timeout: float = 10.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = json.loads((await ws.receive(timeout=max(0.1, deadline - loop.time()))).data)
        if msg["type"] == "call.offered":
            return msg["data"]


async def test_offers_ring_the_outside_number_until_logout(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    bridge, pbx = office["bridge"], office["bridge"].adapter
    token = await _agent_session(http, office)
    h = {"X-CSRF-Token": token}
    me = f"u{office['agent']['id']}"
    for bad in ("0170 1234567", "+49 12", "mobile", "+" + "1" * 45):
        async with http.post("/api/v1/acd/me/login", json={"phone": bad}, headers=h) as r:
            assert r.status == 400 and (await r.json())["field"] == "phone", bad
    assert bridge.engine.agent(me).state.value == "logged_out", "a refused login changes nothing"
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound", "phone": "+49 (170) 123-4567"},
                         headers=h) as r:
        assert r.status == 200 and (await r.json())["phone"] == "+491701234567"
    async with http.get("/api/v1/acd/me") as r:
        me_view = await r.json()
        assert me_view["phone"] == "+491701234567" and me_view["extension"] == "2001"
    async with http.ws_connect("/ws?view=desk") as ws:
        call_id = pbx.arrive(HOTLINE, caller="+4940999000")
        offer = await offered(ws)
        assert offer["call_id"] == call_id and offer["phone"] == "+491701234567"
        assert pbx.rung[me] == "+491701234567", "the PBX rang the outside number, not extension 2001"
        async with http.post(f"/api/v1/acd/calls/{call_id}/answer", headers=h) as r:
            assert r.status == 200
        async with http.post(f"/api/v1/acd/calls/{call_id}/hangup", headers=h) as r:
            assert r.status == 200
    snapshot = bridge.snapshot()
    mine = [a for a in snapshot["agents"] if a["id"] == me]
    assert mine[0]["external_phone"] is True and "+491701234567" not in json.dumps(snapshot), "no private number"

    for _ in range(300):
        if bridge.engine.agent(me).state.value != "busy":
            break
        await asyncio.sleep(0.02)
    async with http.post("/api/v1/acd/me/logout", headers=h) as r:
        assert r.status == 200 and (await r.json())["phone"] is None
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert r.status == 200 and (await r.json())["phone"] is None
    async with http.ws_connect("/ws?view=desk") as ws:
        pbx.arrive(HOTLINE, caller="+4940999001")
        offer = await offered(ws)
        assert "phone" not in offer and pbx.rung[me] == "2001", "back on the extension"
