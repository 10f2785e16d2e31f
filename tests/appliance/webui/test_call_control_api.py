"""Call control and wrap-up codes over HTTP: an agent mutes, consults a number, holds a three-way and leaves
it; wrap-up codes are configured through the REST API (CRUD), required by the queue, given by the agent,
and shown in the history, its CSV and the summary; another tenant's agent sees none of it."""
from __future__ import annotations

import asyncio

from appliance.pbx.simulated import SimTraffic
from tests.appliance.api.client import tenant_with_admin, user_client
from tests.appliance.webui.helpers import login
from tests.appliance.webui.test_desk import _agent_session, office_setup

HOTLINE = SimTraffic("hotline", "+4940555000", 0, handle_mean_s=1e9, patience_mean_s=None)  # talks until told


async def eventually(check, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


async def test_consult_three_way_leave_then_required_wrap_up_codes(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, bridge = office["acme"], office["bridge"]
    from appliance.models.acd import AcdQueue
    await appliance.db.call(lambda: AcdQueue.update(wrap_up_required=True).where(AcdQueue.key == "hotline")
                            .execute())
    queue_id = await appliance.db.call(lambda: AcdQueue.get(AcdQueue.key == "hotline").id)
    solved = await acme.post("/wrap-up-codes", {"code": "solved", "name": "Solved on the call"})
    await acme.post("/wrap-up-codes", {"code": "invoice", "name": "Invoice question", "queue_id": queue_id})
    bad = await acme.post("/wrap-up-codes", {"code": "has space", "name": "x"}, expect=400)
    assert "code" in bad["fields"]
    assert solved["code"] == "solved" and solved["queue_id"] is None

    token = await _agent_session(http, office)
    h = {"X-CSRF-Token": token}
    me = f"u{office['agent']['id']}"
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert r.status == 200
    bridge.adapter.time_scale = 0.002
    call_id = bridge.adapter.arrive(HOTLINE, caller="+4940999000")
    await eventually(lambda: bridge.engine.agent(me).state.value == "reserved")
    async with http.post(f"/api/v1/acd/calls/{call_id}/answer", headers=h) as r:
        assert r.status == 200

    async with http.post(f"/api/v1/acd/calls/{call_id}/mute", headers=h) as r:
        assert r.status == 200 and (await r.json())["muted"] == [me]
    async with http.post(f"/api/v1/acd/calls/{call_id}/consult", json={"target": "12ab"}, headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "target"
    # an agent of another tenant is nobody's colleague here: refused, and nothing changes for them
    _, globex = await tenant_with_admin(office["admin"], "Globex")
    stranger, _ = await user_client(globex, "gunnar")
    from appliance.models.acd import AgentPhone
    from appliance.models.auth import User
    globex_tenant = await appliance.db.call(lambda: User.get_by_id(stranger["id"]).tenant_id)
    await appliance.db.call(lambda: AgentPhone.create(user=stranger["id"], tenant=globex_tenant, extension="3001"))
    await office["service"].refresh()
    bridge.login(f"u{stranger['id']}")
    async with http.post(f"/api/v1/acd/calls/{call_id}/consult", json={"target": "3001"}, headers=h) as r:
        assert r.status == 404 and (await r.json())["error"] == "no_such_colleague"
    assert bridge.engine.agent(f"u{stranger['id']}").state.value == "ready"
    bridge.adapter.unanswered_targets.add("+4930666")
    bridge.adapter.consult_ring_s = 1_000_000  # rings until cancelled
    async with http.post(f"/api/v1/acd/calls/{call_id}/consult", json={"target": "+49 30 666"}, headers=h) as r:
        view = await r.json()
        assert r.status == 200 and view["consult"] == {"target": "+4930666", "agent_id": None, "state": "ringing",
                                                        "by": me}
    async with http.post(f"/api/v1/acd/calls/{call_id}/conference", headers=h) as r:
        assert r.status == 409  # not before the consulted party answers
    async with http.post(f"/api/v1/acd/calls/{call_id}/consult-cancel", headers=h) as r:
        assert r.status == 200 and (await r.json())["consult"] is None
    async with http.post(f"/api/v1/acd/calls/{call_id}/consult", json={"target": "+4930777"}, headers=h) as r:
        assert r.status == 200
    await eventually(lambda: bridge.engine.call(call_id).consult.state.value == "talking")
    async with http.post(f"/api/v1/acd/calls/{call_id}/conference", headers=h) as r:
        assert r.status == 200 and (await r.json())["consult"]["state"] == "conference"
    async with http.post(f"/api/v1/acd/calls/{call_id}/leave", headers=h) as r:
        assert r.status == 200
    assert bridge.engine.agent(me).state.value == "wrap_up"

    async with http.get(f"/api/v1/acd/calls/{call_id}/wrap-up") as r:
        offer = await r.json()
    assert offer["required"] is True and [c["code"] for c in offer["codes"]] == ["invoice", "solved"]
    async with http.post("/api/v1/acd/me/ready", headers=h) as r:
        assert r.status == 409  # wrap-up codes first
    async with http.post(f"/api/v1/acd/calls/{call_id}/wrap-up", json={"codes": []}, headers=h) as r:
        assert r.status == 400 and "codes" in (await r.json())["fields"]
    async with http.post(f"/api/v1/acd/calls/{call_id}/wrap-up", json={"codes": ["nope"]}, headers=h) as r:
        assert r.status == 400
    async with http.post(f"/api/v1/acd/calls/{call_id}/wrap-up", json={"codes": ["invoice", "solved"],
                                                                       "note": "Kopie geschickt"}, headers=h) as r:
        assert r.status == 201
    async with http.post("/api/v1/acd/me/ready", headers=h) as r:
        assert r.status == 200 and (await r.json())["state"] == "ready"
    async with http.post("/api/v1/acd/calls/sim-999/wrap-up", json={"codes": ["solved"]}, headers=h) as r:
        assert r.status == 404  # not a call of this agent

    history = {}

    async def recorded() -> bool:
        nonlocal history
        history = await acme.get(f"/calls?caller=%2B4940999000")
        return bool(history["items"])

    for _ in range(200):
        if await recorded():
            break
        await asyncio.sleep(0.05)
    row = history["items"][0]
    assert row["outcome"] == "transferred" and row["wrap_up_codes"] == ["invoice", "solved"]
    assert [p["kind"] for p in row["parties"]] == ["consult", "cancelled", "consult", "answered", "conference", "left"]
    assert row["wrap_ups"][0]["note"] == "Kopie geschickt"
    summary = await acme.get("/calls/wrap-up-summary")
    assert {(i["code"], i["count"]) for i in summary["items"]} == {("invoice", 1), ("solved", 1)}
    async with http.get("/api/v1/calls.csv") as r:
        assert r.status == 403  # agents do not read everyone's history

    # the team lead's history page: three-way calls with who, when, to whom, and the codes
    http.cookie_jar.clear()
    await login(http, "acme-admin", "Tenant-Acme-Pass-1")
    async with http.get("/calls?party=conference") as r:
        page = await r.text()
    assert r.status == 200 and f'data-call="{call_id}"' in page and "+4930777" in page
    assert "invoice, solved" in page and "Kopie geschickt" in page
    assert 'data-code="invoice"' in page and "100 %" in page  # both codes were given on the one coded call
    async with http.get("/calls?party=transfer") as r:
        assert f'data-call="{call_id}"' not in await r.text()  # it ended as a three-way the agent left
    async with http.get("/api/v1/calls.csv") as r:
        text = await r.text()
    assert "invoice solved" in text and "conference:" in text


async def test_a_consulted_colleague_sees_the_call_and_hangs_up_on_the_consultation(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, bridge = office["acme"], office["bridge"]
    bert, bert_api = await user_client(acme, "bert", display_name="Bert Bäcker")
    from appliance.models.acd import AgentPhone
    await appliance.db.call(lambda: AgentPhone.create(user=bert["id"], tenant=office["tenant"]["id"],
                                                      extension="2002", queues="nothing-here"))
    token = await _agent_session(http, office)
    h = {"X-CSRF-Token": token}
    me, colleague = f"u{office['agent']['id']}", f"u{bert['id']}"
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert r.status == 200
    bridge.login(colleague)
    bridge.adapter.time_scale = 0.002
    call_id = bridge.adapter.arrive(HOTLINE, caller="+4940999001")
    await eventually(lambda: bridge.engine.agent(me).state.value == "reserved")
    async with http.post(f"/api/v1/acd/calls/{call_id}/answer", headers=h) as r:
        assert r.status == 200
    async with http.post(f"/api/v1/acd/calls/{call_id}/consult", json={"target": "2002"}, headers=h) as r:
        view = await r.json()
    assert view["consult"]["agent_id"] == colleague and view["parties"][2]["name"] == "Bert Bäcker"
    await eventually(lambda: bridge.engine.call(call_id).consult.state.value == "talking")

    status, seen = await bert_api.call("GET", f"/acd/calls/{call_id}/parties")
    assert status == 200 and seen["lead"] == me and seen["consult"]["state"] == "talking"
    status, refused = await bert_api.call("POST", f"/acd/calls/{call_id}/consult-complete")
    assert status == 409 and refused["error"] == "not_leading"
    status, _ = await bert_api.call("POST", f"/acd/calls/{call_id}/leave")
    assert status == 200
    assert bridge.engine.agent(colleague).state.value == "ready"
    assert bridge.engine.call(call_id).agent_id == me and bridge.engine.call(call_id).consult is None
    status, _ = await bert_api.call("GET", f"/acd/calls/{call_id}/parties")
    assert status == 404  # no longer on the call
