"""The appliance in-process with its emulated GSM modem, and helpers to set up an organisation."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, AsyncIterator, Callable

import pytest

from appliance.models import Customer, CustomerIdentifier, Mailbox, ServiceAddress, Tenant

SERVICE_NUMBER = "+46700000100"   # what the emulated modem gsm-a answers as (appliance.sms.modems)
CUSTOMER_NUMBER = "+491701234567"


@pytest.fixture
def sms_env(app_env: dict[str, str]) -> dict[str, str]:
    """Environment for an appliance whose emulated network reports only when a test says so."""
    return {**app_env, "APPLIANCE_SMS_EMULATOR_REPORTS_S": "0", "APPLIANCE_SMS_POLL_S": "2",
            "APPLIANCE_SMS_REOPEN_MAX_S": "1"}


@pytest.fixture
async def app(first_boot, sms_env) -> AsyncIterator:
    """The whole appliance in this event loop, the sms service on emu://gsm-a."""
    from appliance import config
    from appliance.runtime import Appliance
    appliance = Appliance(config.load(first_boot.root, sms_env))
    appliance.first_boot_password = first_boot.admin_password
    await appliance.start()
    yield appliance
    await appliance.stop()


@pytest.fixture
async def web(app) -> AsyncIterator:
    """An HTTPS client pointed at `app` (not at the shared `appliance` fixture, which would be a second one)."""
    import ssl

    import aiohttp
    ctx = ssl.create_default_context(cafile=str(app.data.cert))
    async with aiohttp.ClientSession(base_url=f"https://localhost:{app.web_port}",
                                     connector=aiohttp.TCPConnector(ssl=ctx), cookie_jar=aiohttp.CookieJar()) as http:
        yield http


def make_org(name: str, number: str = SERVICE_NUMBER, customer_number: str | None = CUSTOMER_NUMBER
             ) -> dict[str, int]:
    """A tenant whose mailbox serves `number` by SMS, and a customer known by `customer_number`."""
    tenant = Tenant.create(name=name)
    box = Mailbox.create(tenant=tenant, name="SMS desk", settings=json.dumps({}))
    ServiceAddress.create(tenant=tenant, mailbox=box, kind="sms", value=number)
    out = {"tenant_id": tenant.id, "mailbox_id": box.id, "customer_id": 0}
    if customer_number:
        customer = Customer.create(tenant=tenant, name="Erika Mustermann")
        CustomerIdentifier.create(tenant=tenant, customer=customer, kind="phone", value=customer_number)
        out["customer_id"] = customer.id
    return out


async def until(app: Any, fn: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll `fn` in a database transaction until it returns something true (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await app.db.call(fn)
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def until_true(fn: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll a plain function until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)
