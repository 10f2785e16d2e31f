"""Quarantine and mail accounts over HTTP: the API lists, downloads and re-processes; the console shows them."""
from __future__ import annotations

import asyncio
import json

from appliance.intake.spool import SpoolEntry
from appliance.models import Mailbox, Message, ServiceAddress, Tenant
from tests.appliance.mail.corpus import mail
from tests.appliance.webui.helpers import csrf_from


async def make_box(app, address: str) -> tuple[int, int]:
    def work() -> tuple[int, int]:
        tenant = Tenant.create(name=f"T-{address}")
        box = Mailbox.create(tenant=tenant, name="Support")
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value=address)
        return tenant.id, box.id
    return await app.db.call(work)


async def quarantined(app, raw: bytes, **meta) -> None:
    pipeline = app.supervisor.service("mail").pipeline
    await pipeline.accept([SpoolEntry(raw, "smtp:192.0.2.9", meta)])
    await pipeline.drain()


async def test_quarantine_list_download_and_reprocess_after_the_fix(app, admin_http) -> None:
    tenant_id, box_id = await make_box(app, "support@acme.example")
    raw = mail(to="sales@acme.example", message_id="<lost@customer.example>")
    await quarantined(app, raw, rcpt=["sales@acme.example"])
    await quarantined(app, b"\x00\x01 not a mail at all", rcpt=["support@acme.example"])
    async with admin_http.get("/api/v1/quarantine?limit=1") as r:
        assert r.status == 200
        page = await r.json()
    assert len(page["items"]) == 1 and page["next"]
    garbage = page["items"][0]
    assert garbage["source"] == "smtp:192.0.2.9" and "no header fields" in garbage["reason"] and garbage["time"]
    async with admin_http.get(f"/api/v1/quarantine?limit=1&cursor={page['next']}") as r:
        page2 = await r.json()
    entry = page2["items"][0]
    assert "sales@acme.example" in entry["reason"] and page2["next"] is None
    async with admin_http.get(f"/api/v1/quarantine/{entry['id']}/raw") as r:
        assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
        assert await r.read() == raw
    await app.db.call(ServiceAddress.create, tenant=tenant_id, mailbox=box_id, kind="email", value="sales@acme.example")
    token = await csrf_from(admin_http, "/admin/quarantine")
    async with admin_http.post(f"/api/v1/quarantine/{entry['id']}/reprocess", headers={"X-CSRF-Token": token}) as r:
        assert r.status == 200
        done = await r.json()
    assert done["state"] == "reprocessed" and done["result"].startswith("ticket ")
    msg = await app.db.call(Message.get, Message.source_ref == "lost@customer.example")
    assert msg.tenant_id == tenant_id
    async with admin_http.post(f"/api/v1/quarantine/{garbage['id']}/reprocess", headers={"X-CSRF-Token": token}) as r:
        still = await r.json()
    assert still["state"] == "held" and still["attempts"] == 1
    async with admin_http.get("/admin/quarantine") as r:
        page_html = await r.text()
    assert "no header fields" in page_html and "Re-process" in page_html and "reprocessed" in page_html


async def test_quarantine_needs_an_admin_and_a_token(app, admin_http) -> None:
    import aiohttp
    async with aiohttp.ClientSession(base_url=str(admin_http._base_url),
                                     connector=aiohttp.TCPConnector(ssl=False)) as anonymous:
        async with anonymous.get("/api/v1/quarantine") as r:
            assert r.status == 401
    async with admin_http.post("/api/v1/quarantine/1/reprocess") as r:
        assert r.status == 403  # no CSRF token
    async with admin_http.get("/api/v1/quarantine/999999") as r:
        assert r.status == 404 and (await r.json())["error"] == "not_found"


async def test_accounts_api_validates_and_the_console_shows_status(app, admin_http) -> None:
    tenant_id, box_id = await make_box(app, "box@acme.example")
    token = await csrf_from(admin_http, "/admin/mail")
    bad = {"name": "", "protocol": "smtp", "security": "none", "port": 70000, "mailbox_id": 999999}
    async with admin_http.post("/api/v1/mail/accounts", json=bad, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 400
        fields = (await r.json())["fields"]
    assert {"name", "protocol", "security", "port", "mailbox_id", "host", "username", "password"} <= set(fields)
    good = {"name": "Main box", "protocol": "imap", "security": "tls", "host": "127.0.0.1", "port": 1,
            "username": "box@acme.example", "password": "secret", "mailbox_id": box_id, "poll_s": 1}
    async with admin_http.post("/api/v1/mail/accounts", json=good, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 201
        created = await r.json()
    assert "password" not in created and created["tenant_id"] == tenant_id
    # Nothing listens on port 1: the fetcher reports the error, the console shows it.
    for _ in range(100):
        async with admin_http.get("/api/v1/mail/accounts") as r:
            items = (await r.json())["items"]
        if items and items[0]["live"].get("last_error"):
            break
        await asyncio.sleep(0.1)
    assert "Connection refused" in items[0]["live"]["last_error"]
    async with admin_http.get("/admin/mail") as r:
        html = await r.text()
    assert "Main box" in html and "Connection refused" in html and "secret" not in html
    async with admin_http.delete(f"/api/v1/mail/accounts/{created['id']}", headers={"X-CSRF-Token": token}) as r:
        assert (await r.json())["active"] is False
    assert json.dumps(items)  # plain JSON all the way
