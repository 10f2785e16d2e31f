"""Periodic jobs: the daily backup and its retention (A16)."""
from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from appliance.supervisor import Service

log = logging.getLogger(__name__)


class SchedulerService(Service):
    """Runs the daily backup at the configured hour and prunes old ones."""

    name = "scheduler"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.last_backup: str = ""
        self.last_run_date: datetime.date | None = None

    async def run(self) -> None:
        hour = self.ctx.config["hour"]
        while True:
            self.beat()
            now = datetime.datetime.now()
            if hour >= 0 and now.hour == hour and self.last_run_date != now.date():
                self.last_run_date = now.date()
                await self._backup()
            await asyncio.sleep(self.beat_interval_s)

    async def _backup(self) -> None:
        make_backup = self.ctx.shared["make_backup"]
        path = await asyncio.get_running_loop().run_in_executor(None, make_backup)
        self.last_backup = str(path)
        log.info("scheduled backup written path=%s", path)

    def health(self) -> dict[str, Any]:
        return {"last_backup": self.last_backup}
