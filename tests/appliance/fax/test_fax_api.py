"""Fax through the web: a test fax from the emulated outside machine lands on a ticket and its PDF can be
fetched; a fax queued through the API reaches the outside machine."""
from __future__ import annotations

import asyncio

import aiohttp

from appliance.fax.lines import EMULATED_REMOTE
from appliance.webui.routes_fax import sample_page_png
from tests.appliance.webui.helpers import csrf_from, login_admin


async def test_fax_in_and_out_through_the_api(appliance, first_boot, http) -> None:
    from appliance.fax.models import FaxRecord
    from appliance.models import Mailbox, ServiceAddress, Tenant

    def configure():
        tenant = Tenant.create(name="Acme")
        mailbox = Mailbox.create(tenant=tenant, name="Fax inbox")
        ServiceAddress.create(tenant=tenant, mailbox=mailbox, kind="fax", value="+4940111333")

    await appliance.db.call(configure)
    await login_admin(http, first_boot.admin_password)
    h = {"X-CSRF-Token": await csrf_from(http, "/admin/fax")}
    async with http.get("/api/v1/fax/lines") as r:
        lines = await r.json()
    assert lines["emulated"] and lines["items"][0]["number"] == "+4940111333"
    async with http.post("/api/v1/fax/emulator/send-in", json={"text": "Invoice 4711"}, headers=h) as r:
        assert (await r.json())["ok"] is True
    for _ in range(100):
        record = await appliance.db.call(lambda: FaxRecord.select().first())
        if record:
            break
        await asyncio.sleep(0.1)
    async with http.get(f"/api/v1/fax/received/{record.message_id}/pdf") as r:
        assert r.status == 200 and (await r.read()).startswith(b"%PDF")
    network = appliance.supervisor.service("fax").network
    incoming = asyncio.create_task(network.receive_out(timeout=60))
    form = aiohttp.FormData()
    form.add_field("number", EMULATED_REMOTE)
    form.add_field("file", sample_page_png("Order confirmation"), filename="page.png", content_type="image/png")
    async with http.post("/api/v1/fax/outbox", data=form, headers=h) as r:
        job = await r.json()
    assert r.status == 201
    fax = await asyncio.wait_for(incoming, 60)
    assert fax.ok and len(fax.pages) == 1
    for _ in range(100):
        async with http.get(f"/api/v1/fax/outbox/{job['id']}") as r:
            state = (await r.json())["state"]
        if state == "sent":
            break
        await asyncio.sleep(0.1)
    assert state == "sent"
    bad = aiohttp.FormData()
    bad.add_field("number", "+4940123")
    bad.add_field("file", b"MZ not a document", filename="x.exe")
    async with http.post("/api/v1/fax/outbox", data=bad, headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "file"
