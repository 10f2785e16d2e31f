"""The web UI as a supervised service: HTTPS only, on the configured port."""
from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from aiohttp import web

from appliance.supervisor import Service
from appliance.webui import keys

log = logging.getLogger(__name__)


class WebService(Service):
    """Serves the aiohttp application over TLS."""

    name = "webui"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app: web.Application = self.ctx.shared["make_app"]()
        app[keys.STORE] = self.ctx.store
        ssl_ctx: ssl.SSLContext = self.ctx.shared["ssl_context"]
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.ctx.config["host"], self.ctx.config["port"], ssl_context=ssl_ctx,
                           reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else []  # the real port when 0 was asked for
        self.port = sockets[0].getsockname()[1] if sockets else self.ctx.config["port"]

    async def run(self) -> None:
        while True:
            self.beat()
            await asyncio.sleep(self.beat_interval_s)

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()
            self.runner = None

    def health(self) -> dict[str, Any]:
        return {"port": self.port}
