"""The scheduler runs the ticket jobs: a resubmission that has come due goes back to work."""
from __future__ import annotations

import asyncio
import datetime

from appliance.bus import Bus
from appliance.db import Database
from appliance.services.scheduler import SchedulerService
from appliance.supervisor import ServiceContext


async def test_due_resubmission_is_woken(first_boot, database_url) -> None:
    from appliance.models import Tenant, Ticket
    from appliance.models.auth import utcnow
    db = Database(database_url)
    past = utcnow() - datetime.timedelta(minutes=5)
    ticket = await db.call(lambda: Ticket.create(tenant=Tenant.create(name="Acme"), subject="Call back Friday",
                                                 channel="phone", state="resubmission", resubmit_at=past,
                                                 due_at=utcnow()))
    service = SchedulerService(ServiceContext({"hour": -1, "keep_days": 1}, Bus(), db))
    task = asyncio.create_task(service.run())
    for _ in range(100):
        if service.woken:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    assert service.woken == 1 and not service.last_job_error
    assert (await db.call(Ticket.get_by_id, ticket.id)).state == "open"
    db.close()
