"""Periodic jobs: the daily backup and its retention (A16); every minute the SLA escalations (F8),
resubmissions that have come due (F12) and the mailboxes' interim replies (E3); and, as new tickets come in,
the external customer lookup for mail, SMS and fax (D3, appliance.lookup.after_intake)."""
from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from appliance.lookup.after_intake import IntakeLookup
from appliance.mail import interim
from appliance.bus import Event, EventKind
from appliance.models.access.mail_content import MailContent
from appliance.models.access.ticket_jobs import escalate_due, tenants_of, wake_resubmissions
from appliance.supervisor import Service

log = logging.getLogger(__name__)
TICKET_JOBS_EVERY_S = 60.0


class SchedulerService(Service):
    """Runs the daily backup at the configured hour and prunes old ones."""

    name = "scheduler"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.last_backup: str = ""
        self.last_backup_error = ""
        self.last_run_date: datetime.date | None = None
        self.tickets_at = 0.0
        self.escalated = 0
        self.woken = 0
        self.interim_replies = 0
        self._box: Any = None
        self._mail_content = MailContent(ctx.store)  # templates and pictures of interim replies (E3, E4)
        self.last_job_error = ""
        self.lookup = IntakeLookup(ctx.db, ctx.bus, ctx.metrics)
        self._lookup_task: asyncio.Task | None = None

    async def run(self) -> None:
        hour = self.ctx.config["hour"]
        self._lookup_task = asyncio.create_task(self.lookup.run(), name="intake-lookup")
        try:
            await self._loop(hour)
        finally:
            self._lookup_task.cancel()

    async def _loop(self, hour: int) -> None:
        while True:
            self.beat()
            if self._lookup_task is not None and self._lookup_task.done():
                raise RuntimeError(f"intake lookup ended: {self._lookup_task}")
            now = datetime.datetime.now()
            if hour >= 0 and now.hour == hour and self.last_run_date != now.date():
                self.last_run_date = now.date()
                await self._backup()
            loop_now = asyncio.get_running_loop().time()
            if loop_now - self.tickets_at >= TICKET_JOBS_EVERY_S:
                self.tickets_at = loop_now
                await self._ticket_jobs()
            await asyncio.sleep(self.beat_interval_s)

    async def _ticket_jobs(self) -> None:
        # A failing job is logged and shown in health(); it must not stop backups or the next minute's run.
        try:
            escalated = await self.ctx.db.call(escalate_due, None, await self._secret_box(), self._public_url())
            self.escalated += len(escalated)
            woken = await self.ctx.db.call(wake_resubmissions)
            self.woken += len(woken)
            await self._announce(escalated, woken)
            self.interim_replies += len(await self.ctx.db.call(interim.queue_due, None, await self._secret_box(),
                                                               self._mail_content))
            self.last_job_error = ""
        except Exception as exc:
            self.last_job_error = repr(exc)
            log.error("ticket jobs failed: %r", exc)

    async def _announce(self, escalated: list[tuple[int, int, str]], woken: list[int]) -> None:
        """Tell the desks (issue 6): an escalation or a resubmission due shows as an alert on the owner's home."""
        if not escalated and not woken:
            return
        tenants = await self.ctx.db.call(tenants_of, [t for t, _, _ in escalated] + woken)
        for ticket_id, level, action in escalated:
            self.ctx.bus.publish(Event(EventKind.TICKET_UPDATED, {"ticket_id": ticket_id, "reason": "escalation",
                                                                  "escalation_level": level, "step": action},
                                       tenants.get(ticket_id)))
        for ticket_id in woken:
            self.ctx.bus.publish(Event(EventKind.TICKET_UPDATED, {"ticket_id": ticket_id, "reason": "resubmission"},
                                       tenants.get(ticket_id)))

    def _public_url(self) -> str:
        """Where people reach the web UI ([web] public_url), for the desk links in escalation mails; "" if unset."""
        config = self.ctx.shared.get("config")
        return config.get("web", "public_url") if config is not None else ""

    async def _secret_box(self) -> Any:
        """The box that opens mailboxes' sealed S/MIME keys, for interim replies of signing mailboxes."""
        data = self.ctx.shared.get("data_dir")
        if self._box is None and data is not None:
            from appliance.security.secrets import SecretBox
            key = await asyncio.get_running_loop().run_in_executor(None, data.read_key, data.store_key)
            self._box = SecretBox(key)
        return self._box

    async def _backup(self) -> None:
        # A failed backup is shown (health, the backups page, the log) and tried again tomorrow; it must
        # not crash-loop the scheduler, which also runs the SLA escalations.
        make_backup = self.ctx.shared["make_backup"]
        try:
            path = await asyncio.get_running_loop().run_in_executor(None, make_backup)
        except Exception as exc:
            self.last_backup_error = f"{datetime.datetime.now():%Y-%m-%d %H:%M}: {exc or repr(exc)}"
            log.error("scheduled backup failed: %r", exc)
            if self.ctx.metrics is not None:
                self.ctx.metrics.inc("backup.failures")
            return
        self.last_backup, self.last_backup_error = str(path), ""
        log.info("scheduled backup written path=%s", path)

    def health(self) -> dict[str, Any]:
        return {"last_backup": self.last_backup, "last_backup_error": self.last_backup_error,
                "escalated": self.escalated, "resubmissions_woken": self.woken,
                "interim_replies": self.interim_replies, "last_job_error": self.last_job_error,
                "lookups": self.lookup.looked_up, "lookups_attached": self.lookup.attached,
                "last_lookup_error": self.lookup.last_error}
