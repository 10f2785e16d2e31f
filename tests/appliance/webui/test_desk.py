"""The agent desk over HTTP and the websocket: phone profiles made live, the screen pop for known, unknown and
employee callers, call control, work by due time, sanitised replies, queue script checks, languages."""
from __future__ import annotations

import asyncio
import datetime
import json

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client
from tests.appliance.webui.helpers import csrf_from, login

AGENT_PASSWORD = "agnes-Pass-123"


async def office_setup(appliance, first_boot, http, agent_name: str = "Agnes Åström"):
    """A tenant with a queue, an agent with a phone profile (made through the admin page) and a customer."""
    admin = await admin_client(http, first_boot.admin_password)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    agent, _ = await user_client(acme, "agnes", display_name=agent_name)
    from appliance.models.acd import AcdQueue
    await appliance.db.call(lambda: AcdQueue.create(tenant=tenant["id"], key="hotline", name="Hotline",
                                                    dialled_numbers="+4940555000"))
    customer = await acme.post("/customers", {"name": "Zbigniew Łukasiewicz 王小明", "phones": ["+49 40 1234567"],
                                              "number": "K-1001"})
    mailbox = await acme.post("/mailboxes", {"name": "Support", "addresses": ["support@acme.example"]})
    ticket = await acme.post("/tickets", {"subject": "Rechnung fehlt", "customer_id": customer["id"],
                                          "channel": "mail", "body": "Wo bleibt meine Rechnung?",
                                          "sender": "zbigniew@example.pl", "owner_id": agent["id"],
                                          "mailbox_id": mailbox["id"]})
    service = appliance.supervisor.service("pbx_bridge")
    await service.refresh()
    return {"tenant": tenant, "acme": acme, "agent": agent, "customer": customer, "ticket": ticket,
            "service": service, "bridge": service.bridge, "admin": admin, "mailbox": mailbox}


async def _agent_session(http, office, form_as_admin: bool = True) -> str:
    """The agent logged in through the form, with a phone profile given on the queue admin page first."""
    tenant_admin_pw = "Tenant-Acme-Pass-1"
    await login(http, "acme-admin", tenant_admin_pw)
    token = await csrf_from(http, "/admin/queues")
    async with http.post("/admin/queues/phones", data={"csrf_token": token, "user_id": str(office["agent"]["id"]),
                                                       "extension": "12x", "queues": "hotline"}) as r:
        page = await r.text()
        assert r.status == 400 and "One to six digits." in page and 'id="err-phone_extension"' in page
    async with http.post("/admin/queues/phones", data={"csrf_token": token, "user_id": str(office["agent"]["id"]),
                                                       "extension": "2001", "queues": "hotline"},
                         allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == "/admin/queues?saved=phone"
    http.cookie_jar.clear()
    await login(http, "agnes", AGENT_PASSWORD)
    return await csrf_from(http, "/desk")


async def _ws_until(ws, kind: str, timeout: float = 10.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await ws.receive(timeout=max(0.1, deadline - loop.time()))
        data = json.loads(msg.data)
        if data["type"] == kind:
            return data["data"]


async def test_phone_profile_makes_an_agent_live_and_the_pop_shows_the_customer(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    token = await _agent_session(http, office)
    bridge = office["bridge"]
    agent_id = f"u{office['agent']['id']}"
    assert bridge.engine.agent(agent_id).extension == "2001"
    assert bridge.engine.queue("hotline").members == frozenset({agent_id})
    h = {"X-CSRF-Token": token}
    async with http.get("/desk") as r:
        page = await r.text()
        assert r.status == 200 and "/static/desk.js" in page and "Agnes Åström" in page
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert (await r.json())["state"] == "ready"
    pbx = bridge.adapter
    from appliance.pbx.simulated import SimTraffic
    traffic = SimTraffic("hotline", "+4940555000", 0, patience_mean_s=None)
    async with http.ws_connect("/ws?view=desk") as ws:
        snap = await _ws_until(ws, "snapshot")
        assert "hotline" in [q["id"] for q in snap["queues"]] and "agents" not in snap
        call_id = pbx.arrive(traffic, caller="040 1234567")
        offer = await _ws_until(ws, "call.offered")
        assert offer["call_id"] == call_id
        pop = offer["pop"]
        assert pop["identity"] == "known"
        assert pop["file"]["customer"]["name"] == "Zbigniew Łukasiewicz 王小明"
        assert [t["subject"] for t in pop["file"]["open_tickets"]] == ["Rechnung fehlt"]
        assert pop["file"]["history"][0]["excerpt"] == "Wo bleibt meine Rechnung?"
        async with http.post(f"/api/v1/acd/calls/{call_id}/answer", headers=h) as r:
            assert r.status == 200
        await _ws_until(ws, "call.answered")
        async with http.post(f"/api/v1/acd/calls/{call_id}/hold", headers=h) as r:
            assert r.status == 200 and call_id in pbx.held
        async with http.post(f"/api/v1/acd/calls/{call_id}/retrieve", headers=h) as r:
            assert r.status == 200 and call_id not in pbx.held
        async with http.post(f"/api/v1/acd/calls/{call_id}/hangup", headers=h) as r:
            assert r.status == 200
        state = await _ws_until(ws, "agent.state")
        assert state["state"] in ("wrap_up", "ready")
    async with http.post("/api/v1/acd/me/dial", json={"number": "+49 40 1234567"}, headers=h) as r:
        assert r.status == 200 and (await r.json())["call_id"].startswith("sim-out-")
    async with http.post("/api/v1/acd/me/dial", json={"number": "drop table"}, headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "number"


async def test_unknown_and_employee_callers(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    await office["acme"].post("/staff", {"name": "Märta Lindqvist", "department": "Billing",
                                         "phone": "+49 40 7654321"})
    token = await _agent_session(http, office)
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 200
    from appliance.pbx.simulated import SimTraffic
    traffic = SimTraffic("hotline", "+4940555000", 0, patience_mean_s=None)
    pbx = office["bridge"].adapter
    async with http.ws_connect("/ws?view=desk") as ws:
        pbx.arrive(traffic, caller="+49 40 7654321")
        offer = await _ws_until(ws, "call.offered")
        assert offer["pop"]["identity"] == "employee"
        assert offer["pop"]["employee"] == {"name": "Märta Lindqvist", "department": "Billing", "title": ""}
        async with http.post(f"/api/v1/acd/calls/{offer['call_id']}/hangup",
                             headers={"X-CSRF-Token": token}) as r:
            assert r.status == 409  # ringing, not answered: the agent cannot hang up a call not theirs yet
        await office["bridge"].answer(offer["call_id"], offer["agent_id"])
        await office["bridge"].hangup(offer["call_id"])
        office["bridge"].ready(offer["agent_id"])
        pbx.arrive(traffic, caller="+46 8 123 456 78")
        offer = await _ws_until(ws, "call.offered")
        assert offer["pop"] == {"identity": "unknown", "caller": "+46 8 123 456 78", "file": None}


async def test_work_by_due_time_reply_is_sanitised_and_transfer(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme = office["acme"]
    agent_id = office["agent"]["id"]
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    late = await acme.post("/tickets", {"subject": "Late one", "owner_id": agent_id, "due_at": past,
                                        "mailbox_id": office["mailbox"]["id"]})
    await acme.post("/tickets", {"subject": "Later one", "owner_id": agent_id, "due_at": later})
    token = await _agent_session(http, office)
    h = {"X-CSRF-Token": token}
    async with http.get("/desk/work") as r:
        work = await r.json()
    assert work["tickets"][0]["subject"] == "Late one" and {"Later one", "Rechnung fehlt"} <= {
        t["subject"] for t in work["tickets"]}
    assert [t["overdue"] for t in work["tickets"]] == [True] + [False] * (len(work["tickets"]) - 1)
    assert [t["due_at"] for t in work["tickets"]] == sorted(t["due_at"] for t in work["tickets"])
    assert work["alerts"] == [{"kind": "overdue", "count": 1}]
    html = '<p>Hallo <b>Zbigniew</b></p><script>alert(1)</script><a href="javascript:x()">x</a>'
    async with http.post(f"/desk/tickets/{late['id']}/reply", headers=h,
                         json={"text": html, "html": True, "channel": "mail", "recipient": "z@example.pl"}) as r:
        assert r.status == 200, await r.text()
    async with http.get(f"/api/v1/tickets/{late['id']}/messages") as r:
        sent = [m for m in (await r.json())["items"] if m["direction"] == "out"]
    assert sent and sent[-1]["body"].startswith("Hallo Zbigniew")  # the mail's text part
    from email import message_from_bytes, policy
    from appliance.mail.models import MailOutbox
    row = await appliance.db.call(MailOutbox.get, MailOutbox.ticket == late["id"])
    html_part = message_from_bytes(bytes(row.raw), policy=policy.default).get_body(("html",)).get_content()
    assert "<b>Zbigniew</b>" in html_part and "<script" not in html_part and "javascript:" not in html_part
    async with http.post(f"/desk/tickets/{late['id']}/reply", headers=h, json={"text": "x", "channel": "mail"}) as r:
        assert r.status == 400 and "recipient" in (await r.json())["fields"]
    async with http.post(f"/desk/tickets/{late['id']}/reply", json={"text": "x"}) as r:
        assert r.status == 403  # no CSRF token
    # Transfer of an answered call into another queue.
    async with http.post("/api/v1/acd/me/login", json={"mode": "inbound"}, headers=h) as r:
        assert r.status == 200
    bridge = office["bridge"]
    from appliance.pbx.simulated import SimTraffic
    async with http.ws_connect("/ws?view=desk") as ws:
        call_id = bridge.adapter.arrive(SimTraffic("hotline", "+4940555000", 0, patience_mean_s=None), caller="+4940999")
        await _ws_until(ws, "call.offered")
        async with http.post(f"/api/v1/acd/calls/{call_id}/answer", headers=h) as r:
            assert r.status == 200
        async with http.post(f"/api/v1/acd/calls/{call_id}/transfer", json={"queue": "support"}, headers=h) as r:
            assert r.status == 200, await r.text()
        assert bridge.engine.call(call_id).agent_id != f"u{agent_id}"


async def test_queue_admin_validates_forms_and_scripts(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    await login(http, "acme-admin", "Tenant-Acme-Pass-1")
    token = await csrf_from(http, "/admin/queues")
    async with http.post("/admin/queues", data={"csrf_token": token, "key": "Bad Key", "name": "",
                                                "dialled_numbers": "12ab", "sl_target_s": "x"}) as r:
        page = await r.text()
    assert r.status == 400
    for field in ("key", "name", "dialled_numbers", "sl_target_s"):
        assert f'id="err-{field}"' in page
    async with http.post("/admin/queues", data={"csrf_token": token, "key": "billing", "name": "Fakturor åäö",
                                                "dialled_numbers": "+4940555111", "sl_target_s": "30",
                                                "wrap_up_s": "5"}, allow_redirects=False) as r:
        assert r.status == 302
    assert office["bridge"].engine.queue("billing").name == "Fakturor åäö"
    assert office["bridge"].dialled_to_queue["+4940555111"] == "billing"
    async with http.get("/admin/queues/billing/script") as r:
        assert r.status == 200 and "/static/queues.js" in await r.text()
    h = {"X-CSRF-Token": token}
    async with http.post("/admin/queues/billing/script/check", json={"text": "play hi\nwhen wiat > 3:\n    hangup\n"},
                         headers=h) as r:
        body = await r.json()
    assert body["ok"] is False and body["problems"][0]["line"] == 2
    async with http.post("/admin/queues/billing/script/check", json={"text": "queue\n"}, headers=h) as r:
        assert await r.json() == {"ok": True, "problems": []}
    async with http.get("/admin/queues/nope/script") as r:
        assert r.status == 404


async def test_language_choice_and_unicode(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http, agent_name="Łucja 李 Östlund")
    token = await _agent_session(http, office)
    async with http.get("/desk") as r:
        page = await r.text()
    assert 'lang="en"' in page and "Take next" in page and "Łucja 李 Östlund" in page
    async with http.post("/account/language", data={"csrf_token": token, "language": "de", "next": "/desk"},
                         allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == "/desk"
    async with http.get("/desk") as r:
        page = await r.text()
    assert 'lang="de"' in page and "Nächstes nehmen" in page and "Take next" not in page
    strings = json.loads(__import__("html").unescape(page.split('data-strings="')[1].split('"')[0]))
    assert strings["Ready"] == "Bereit"
    async with http.get("/wallboard") as r:
        assert "Warte auf die erste Meldung der ACD…" in await r.text()
    async with http.post("/account/language", data={"csrf_token": token, "language": "xx"}) as r:
        assert r.status == 400
