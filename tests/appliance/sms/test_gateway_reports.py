"""Delivery reports from the HTTP(S) SMS gateway (POST /api/v1/sms/reports), and several gateway requests at once."""
from __future__ import annotations

import json
from pathlib import Path
from typing import AsyncIterator

import aiohttp
import pytest

from appliance.sms.models import SmsOutbox
from tests.appliance.api.client import API, admin_client, tenant_with_admin
from tests.appliance.sms.conftest import CUSTOMER_NUMBER, make_org, until, until_true
from tests.appliance.sms.gateway_server import FakeGateway
from tests.appliance.webui.helpers import csrf_from


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway().start(tmp_path)
    yield gw
    gw.release.set()
    await gw.stop()


@pytest.fixture
def sms_env(app_env: dict[str, str], gateway: FakeGateway) -> dict[str, str]:
    return {**app_env, "APPLIANCE_SMS_EMULATOR_REPORTS_S": "0", "APPLIANCE_SMS_GATEWAY_URL": gateway.url,
            "APPLIANCE_SMS_GATEWAY_CAFILE": gateway.cafile, "APPLIANCE_SMS_GATEWAY_USE": "always",
            "APPLIANCE_SMS_GATEWAY_AUTH_VALUE": "Bearer s3cret-gw", "APPLIANCE_SMS_GATEWAY_PARALLEL": "3",
            "APPLIANCE_SMS_GATEWAY_REPORT_MAP": "DELIVRD=delivered, UNDELIV=failed, ENROUTE=pending"}


async def sent(app, admin, tenant_id: int, text: str) -> SmsOutbox:
    queued = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": text, "tenant_id": tenant_id}, expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.state == "sent"))
    assert row is not None
    return row


async def test_reports_mark_the_sms_delivered_or_undeliverable(app, web: aiohttp.ClientSession,
                                                               gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    admin = await admin_client(web, app.first_boot_password)
    first = await sent(app, admin, org["tenant_id"], "one")
    assert first.gateway_id == "gw-1"  # kept from the gateway's answer {"id": "gw-1"}
    second = await sent(app, admin, org["tenant_id"], "two")
    assert second.gateway_id == "gw-2"

    pending = await admin.post("/sms/reports", {"id": "gw-1", "status": "ENROUTE"})
    assert pending["state"] == "sent"
    row = await admin.post("/sms/reports", {"id": "gw-1", "status": "DELIVRD"})
    assert (row["id"], row["state"], row["gateway_id"]) == (first.id, "delivered", "gw-1")
    late = await admin.post("/sms/reports", {"id": "gw-1", "status": "pending"})
    assert late["state"] == "delivered"  # a late 'pending' does not undo a final state
    failed = await admin.post("/sms/reports", {"id": "gw-2", "status": "UNDELIV", "error": "absent subscriber"})
    assert failed["state"] == "undeliverable" and failed["last_error"] == "absent subscriber"
    assert (await admin.get(f"/sms/{first.id}"))["state"] == "delivered"
    listed = await admin.get("/sms", state="undeliverable")
    assert [r["id"] for r in listed["items"]] == [second.id]


async def test_bad_reports_are_refused_naming_the_field(app, web: aiohttp.ClientSession,
                                                        gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    admin = await admin_client(web, app.first_boot_password)
    await sent(app, admin, org["tenant_id"], "x")
    for body, field in (({"status": "delivered"}, "id"), ({"id": "gw-1"}, "status"),
                        ({"id": "gw-1", "status": "READ"}, "status"), ({"id": True, "status": "failed"}, "id"),
                        ({"id": "gw-1", "status": "failed", "colour": "red"}, "colour"), ([1], "body")):
        status, answer = await admin.call("POST", "/sms/reports", body)
        assert status == 400 and field in answer["fields"], (body, answer)
    async with web.post(API + "/sms/reports", data=b"{not json", headers={
            "Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and "body" in (await resp.json())["fields"]
    status, answer = await admin.call("POST", "/sms/reports", {"id": "gw-404", "status": "delivered"})
    assert status == 404, answer
    async with web.post(API + "/sms/reports", json={"id": "gw-1", "status": "delivered"}) as resp:
        assert resp.status == 401  # no token, no report


async def test_a_tenant_cannot_report_on_another_tenants_sms(app, web: aiohttp.ClientSession,
                                                              gateway: FakeGateway) -> None:
    admin = await admin_client(web, app.first_boot_password)
    acme, acme_api = await tenant_with_admin(admin, "Acme")
    globex, globex_api = await tenant_with_admin(admin, "Globex")
    row = await sent(app, acme_api, acme["id"], "for acme")
    status, _ = await globex_api.call("POST", "/sms/reports", {"id": row.gateway_id, "status": "failed"})
    assert status == 404
    assert (await app.db.call(SmsOutbox.get_by_id, row.id)).state == "sent"
    mine = await acme_api.post("/sms/reports", {"id": row.gateway_id, "status": "delivered"})
    assert mine["state"] == "delivered"


async def test_a_slow_gateway_answer_does_not_hold_up_the_others(app, web: aiohttp.ClientSession,
                                                                 gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    admin = await admin_client(web, app.first_boot_password)
    gateway.hold = b"slow"
    slow = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "slow one", "tenant_id": org["tenant_id"]},
                            expect=202)
    assert await until_true(lambda: gateway.active == 1)
    others = [await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": f"quick {i}", "tenant_id": org["tenant_id"]},
                               expect=202) for i in range(5)]
    ids = [o["id"] for o in others]
    done = await until(app, lambda: SmsOutbox.select().where(SmsOutbox.id.in_(ids),
                                                             SmsOutbox.state == "sent").count() == 5)
    assert done, "the quick SMS waited behind the slow answer"
    assert (await app.db.call(SmsOutbox.get_by_id, slow["id"])).state == "queued"  # still under way, not resent
    assert gateway.peak <= 3  # gateway_parallel
    gateway.release.set()
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == slow["id"], SmsOutbox.state == "sent"))
    assert row is not None and row.attempts == 1
    assert sum(b"slow one" in r["body"] for r in gateway.requests) == 1  # sent once, not again while it waited
    health = app.supervisor.service("sms").health()["gateway"]
    assert health["sent"] == 6 and "s3cret" not in json.dumps(health)


async def test_the_sms_page_shows_the_gateways_without_their_secrets(app, web: aiohttp.ClientSession,
                                                                     gateway: FakeGateway) -> None:
    from appliance.mail.models import MailAccount
    from tests.appliance.webui.helpers import login_admin
    org = await app.db.call(make_org, "Acme")
    await app.db.call(MailAccount.create, tenant=org["tenant_id"], mailbox=org["mailbox_id"], name="gw-mail",
                      protocol="imap", host="imap.gw.example", port=993, username="u", kind="sms-gateway",
                      sms_number="+46700000100", active=False)
    await login_admin(web, app.first_boot_password)
    gateway.status = 503  # an outage: the page shows the last error
    token = await csrf_from(web, "/admin/sms")
    async with web.get("/admin/sms") as resp:
        assert resp.status == 200
    svc = app.supervisor.service("sms")
    await app.db.call(lambda: SmsOutbox.create(tenant=org["tenant_id"], to_number=CUSTOMER_NUMBER, text="x"))
    svc.wake_outbox()
    assert await until_true(lambda: svc.gateway_failures >= 1)
    host = gateway.url.split("/")[2]
    async with web.get("/admin/sms", headers={"Accept-Language": "en"}) as resp:
        page = await resp.text()
    assert f"<td>{host}</td>" in page and "HTTP 503" in page and token
    assert "s3cret" not in page and "/send" not in page  # the auth value and the URL's path stay in the file
    assert "gw-mail" in page and "SMS to +46700000100" in page and "imap imap.gw.example" in page
    async with web.post("/account/language", data={"csrf_token": token, "language": "de", "next": "/admin/sms"},
                        allow_redirects=False) as resp:
        assert resp.status in (302, 303)
    async with web.get("/admin/sms") as resp:
        page = await resp.text()
    assert "Eingehend per Mail" in page and "Ausgehend per HTTP(S)" in page
