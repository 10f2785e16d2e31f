"""A backlog of queued SMS through a slow HTTP gateway: only gateway_parallel rows are taken at a time (one task
each), the rest wait in the database in order, and every row goes out exactly once."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator

import pytest

from appliance.sms.models import SmsOutbox
from tests.appliance.sms.conftest import CUSTOMER_NUMBER, make_org, until, until_true
from tests.appliance.sms.gateway_server import FakeGateway

ROWS = 50


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
            "APPLIANCE_SMS_GATEWAY_PARALLEL": "2"}


def gateway_tasks() -> int:
    """Live tasks of the sms service's gateway sends (named sms-gateway-<row id>)."""
    return sum(1 for t in asyncio.all_tasks() if t.get_name().startswith("sms-gateway-") and not t.done())


def queue_backlog(tenant_id: int) -> list[int]:
    """ROWS queued SMS, as a gateway outage leaves them."""
    return [SmsOutbox.create(tenant=tenant_id, to_number=CUSTOMER_NUMBER, text=f"slow backlog {i:02d}").id
            for i in range(ROWS)]


async def test_a_backlog_makes_at_most_gateway_parallel_tasks_and_sends_each_row_once(app, gateway) -> None:
    org = await app.db.call(make_org, "Acme")
    svc = app.supervisor.service("sms")
    seen: list[int] = []
    gateway.on_request = lambda: seen.append(gateway_tasks())
    gateway.hold = b"slow"  # every request waits until the test releases the gateway
    ids = await app.db.call(queue_backlog, org["tenant_id"])
    svc.wake_outbox()
    assert await until_true(lambda: gateway.active == 2), gateway.requests
    for _ in range(3):  # more passes while both slots are taken start nothing
        assert await svc.send_due() == 0
    assert gateway_tasks() == 2 and len(svc._in_flight) == 2 and len(gateway.requests) == 2
    queued = await app.db.call(lambda: SmsOutbox.select().where(SmsOutbox.state == "queued").count())
    assert queued == ROWS  # the two under way are still queued until the gateway answers
    gateway.release.set()
    done = await until(app, lambda: SmsOutbox.select().where(SmsOutbox.id.in_(ids),
                                                             SmsOutbox.state == "sent").count() == ROWS, 60)
    assert done, svc.health()
    texts = [r["body"].split(b"slow backlog ")[1][:2] for r in gateway.requests]
    assert sorted(texts) == [f"{i:02d}".encode() for i in range(ROWS)]  # each once, none twice
    assert len(seen) == ROWS and max(seen) <= 2
    # Oldest first: the first two rows taken are the two oldest (their two requests race each other).
    assert sorted(texts[:2]) == [b"00", b"01"]
    attempts = await app.db.call(lambda: {r.attempts for r in SmsOutbox.select().where(SmsOutbox.id.in_(ids))})
    assert attempts == {1}
