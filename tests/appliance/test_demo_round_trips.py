"""On the default (emulated) appliance, after "Set up demo": a call, a fax and an SMS each land as a ticket of
the demo tenant's mailbox, where the demo agent works them in the desk."""
from __future__ import annotations

import asyncio

from tests.appliance.webui.helpers import csrf_from, login, login_admin


async def eventually(fetch, timeout: float = 60.0):
    for _ in range(int(timeout / 0.2)):
        value = await fetch()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("not reached in time")


async def test_call_fax_and_sms_become_demo_tickets(appliance, first_boot, http) -> None:
    from appliance.models import Ticket, User
    await login_admin(http, first_boot.admin_password)
    h = {"X-CSRF-Token": await csrf_from(http, "/admin")}
    async with http.post("/admin/demo-setup", headers=h) as r:
        demo = await r.json()
    assert demo["agent_password"] and len(demo["addresses"]) == 4
    async with http.post("/admin/demo-setup", headers=h) as r:
        assert (await r.json())["addresses"] == []  # a second click changes nothing
    agent = await appliance.db.call(User.get, User.username == "agent1")
    assert appliance.supervisor.service("pbx_bridge").bridge.engine.agent(f"u{agent.id}").extension == "2001"

    pbx = appliance.supervisor.service("pbx_bridge").bridge
    pbx.adapter.time_scale = pbx.time_scale = 0.002
    pbx.adapter.arrive(pbx.adapter.traffic[0])
    async with http.post("/api/v1/fax/emulator/send-in", json={"text": "Demo fax"}, headers=h) as r:
        assert (await r.json())["ok"]
    sms = appliance.supervisor.service("sms")
    emulator = next(iter(sms.emulators().values()))
    from appliance.sms import emulated
    emulated.inject(emulator, "+491701234567", "Hallo, meine Bestellung?")

    def channels():
        return {t.channel for t in Ticket.select().where(Ticket.tenant == demo["tenant_id"])}

    got = await eventually(lambda: appliance.db.call(lambda: (c := channels()) >= {"phone", "fax", "sms"} and c))
    assert got >= {"phone", "fax", "sms"}
    http.cookie_jar.clear()
    await login(http, "agent1", demo["agent_password"])  # the demo agent reaches the desk after the forced change
    async with http.get("/desk", allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == "/account/password"
