"""The sms service sends through the HTTP(S) gateway: always when configured so, and as failover while no
modem is up; a gateway's refusal fails the row with its answer, an outage leaves it queued to retry."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import aiohttp
import pytest

from appliance.sms import emulated
from appliance.sms.models import SmsOutbox
from tests.appliance.api.client import admin_client
from tests.appliance.sms.conftest import CUSTOMER_NUMBER, SERVICE_NUMBER, make_org, until, until_true
from tests.appliance.sms.gateway_server import FakeGateway


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway().start(tmp_path)
    yield gw
    await gw.stop()


@pytest.fixture
def use(request) -> str:
    return getattr(request, "param", "always")


@pytest.fixture
def sms_env(app_env: dict[str, str], gateway: FakeGateway, use: str) -> dict[str, str]:
    return {**app_env, "APPLIANCE_SMS_EMULATOR_REPORTS_S": "0", "APPLIANCE_SMS_POLL_S": "2",
            "APPLIANCE_SMS_REOPEN_MAX_S": "1", "APPLIANCE_SMS_GATEWAY_URL": gateway.url,
            "APPLIANCE_SMS_GATEWAY_CAFILE": gateway.cafile, "APPLIANCE_SMS_GATEWAY_USE": use,
            "APPLIANCE_SMS_GATEWAY_AUTH_VALUE": "Bearer t0ken", "APPLIANCE_SMS_SEND_ATTEMPTS": "3"}


async def test_always_sends_every_sms_through_the_gateway(app, web: aiohttp.ClientSession,
                                                          gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    admin = await admin_client(web, app.first_boot_password)
    queued = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "Your parcel is ready.",
                                       "from": SERVICE_NUMBER, "tenant_id": org["tenant_id"]}, expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.state == "sent"))
    assert row is not None and row.modem == "http-gateway" and row.attempts == 1
    (req,) = gateway.requests
    assert req["headers"]["Authorization"] == "Bearer t0ken"
    assert b'"to": "+491701234567"' in req["body"] and b"Your parcel is ready." in req["body"]
    emu = app.supervisor.service("sms").emulators()["gsm-a"]
    assert emu.sent == []  # the modem sent nothing
    shown = await admin.get(f"/sms/{row.id}")
    assert shown["state"] == "sent" and shown["modem"] == "http-gateway"
    assert app.supervisor.service("sms").health()["gateway"]["sent"] == 1


async def test_refused_by_gateway_fails_with_its_answer(app, web: aiohttp.ClientSession,
                                                        gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    gateway.status = 403
    admin = await admin_client(web, app.first_boot_password)
    queued = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "x", "tenant_id": org["tenant_id"]},
                              expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.state == "failed"))
    assert row is not None and "HTTP 403" in row.last_error and row.attempts == 1


async def test_gateway_outage_keeps_the_row_queued(app, web: aiohttp.ClientSession, gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    gateway.status = 503
    admin = await admin_client(web, app.first_boot_password)
    queued = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "x", "tenant_id": org["tenant_id"]},
                              expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.attempts == 1))
    assert row is not None and row.state == "queued" and "HTTP 503" in row.last_error
    assert row.next_attempt_at > row.created_at  # backed off like a modem failure


@pytest.mark.parametrize("use", ["failover"], indirect=True)
async def test_failover_only_while_no_modem_is_up(app, web: aiohttp.ClientSession, gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    svc = app.supervisor.service("sms")
    assert await until_true(lambda: svc.runners["gsm-a"].state == "up"), svc.health()
    emu = svc.emulators()["gsm-a"]
    admin = await admin_client(web, app.first_boot_password)
    first = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "by modem", "tenant_id": org["tenant_id"]},
                             expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == first["id"], SmsOutbox.state == "sent"))
    assert row is not None and row.modem == "gsm-a" and gateway.requests == []

    await emulated.unplug(emu)
    assert await until_true(lambda: svc.runners["gsm-a"].state == "down"), svc.runners["gsm-a"].health()
    second = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "by gateway",
                                       "tenant_id": org["tenant_id"]}, expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == second["id"], SmsOutbox.state == "sent"))
    assert row is not None and row.modem == "http-gateway"
    assert len(gateway.requests) == 1 and b"by gateway" in gateway.requests[0]["body"]


@pytest.mark.parametrize("use", ["failover"], indirect=True)
async def test_failover_when_the_modem_fails_the_send(app, web: aiohttp.ClientSession,
                                                      gateway: FakeGateway) -> None:
    org = await app.db.call(make_org, "Acme")
    svc = app.supervisor.service("sms")
    assert await until_true(lambda: svc.runners["gsm-a"].state == "up"), svc.health()
    svc.emulators()["gsm-a"].fail_next_send(500)
    admin = await admin_client(web, app.first_boot_password)
    queued = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "modem refused", "tenant_id": org["tenant_id"]},
                              expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.state == "sent"))
    assert row is not None and row.modem == "http-gateway" and row.attempts == 1
    assert [b"modem refused" in r["body"] for r in gateway.requests] == [True]
