"""The scheduler runs the ticket jobs: a resubmission that has come due goes back to work, and the desks hear of it."""
from __future__ import annotations

import asyncio
import datetime

from appliance.bus import Bus, EventKind
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
    bus = Bus()
    announced = bus.subscribe(EventKind.TICKET_UPDATED)
    service = SchedulerService(ServiceContext({"hour": -1, "keep_days": 1}, bus, db))
    task = asyncio.create_task(service.run())
    event = await asyncio.wait_for(announced.get(), 30)  # the desks hear of it: an alert on the owner's home
    task.cancel()
    assert service.woken == 1 and not service.last_job_error
    assert event.data == {"ticket_id": ticket.id, "reason": "resubmission"} and event.tenant_id == ticket.tenant_id
    assert (await db.call(Ticket.get_by_id, ticket.id)).state == "open"
    db.close()


async def test_daily_backup_runs_at_its_hour_and_a_failure_does_not_stop_the_scheduler(tmp_path) -> None:
    made: list[str] = []

    def make_backup():
        if not made:
            made.append("failed")
            raise OSError(28, "No space left on device")
        made.append("ok")
        return tmp_path / "backup-20260101-020000.tar.gz"

    # The backup hour is now, so the first pass makes it (and fails); the next day's run would succeed.
    service = SchedulerService(ServiceContext({"hour": datetime.datetime.now().hour, "keep_days": 1}, Bus(),
                                              shared={"make_backup": make_backup}))
    service.tickets_at = float("inf")  # no database here: the ticket jobs are not this test's concern
    task = asyncio.create_task(service.run())
    for _ in range(500):
        if service.last_backup_error:
            break
        await asyncio.sleep(0.01)
    assert "No space left on device" in service.health()["last_backup_error"]
    assert not task.done()  # the scheduler lives on
    service.last_run_date = None  # tomorrow
    for _ in range(500):
        if service.last_backup:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert made == ["failed", "ok"] and service.health()["last_backup_error"] == ""
    assert service.last_backup.endswith("backup-20260101-020000.tar.gz")


def test_backups_older_than_keep_days_are_deleted(tmp_path) -> None:
    import os
    import time

    from appliance.backup import prune_backups
    now = time.time()
    ages = {"backup-20260101-020000.tar.gz": 3.5, "backup-20260103-020000.tar.gz": 1.5,
            "backup-20260104-020000.tar.gz": 0.5, "notes.txt": 30}
    for name, days in ages.items():
        path = tmp_path / name
        path.write_bytes(b"x")
        os.utime(path, (now - days * 86400, now - days * 86400))
    removed = prune_backups(tmp_path, keep_days=2, now=now)
    assert sorted(p.name for p in removed) == ["backup-20260101-020000.tar.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup-20260103-020000.tar.gz",
                                                          "backup-20260104-020000.tar.gz", "notes.txt"]
