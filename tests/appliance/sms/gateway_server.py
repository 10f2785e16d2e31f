"""A real aiohttp HTTPS server playing an SMS gateway for the tests: it records each request and
answers with the status the test sets."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from appliance.security.tls import make_self_signed, server_context


@dataclass
class FakeGateway:
    """What the gateway received and what it answers next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    url: str = ""
    cafile: str = ""
    runner: web.AppRunner | None = None
    hold: bytes = b""              # a request whose body contains this waits for `release` before it answers
    release: asyncio.Event = field(default_factory=asyncio.Event)
    active: int = 0                # requests being answered now
    peak: int = 0                  # the most at once
    on_request: Callable[[], None] | None = None  # called as each request arrives (a test's probe)

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request, answer with `status` and an id gw-<n> (n counts the requests)."""
        body = await request.read()
        self.requests.append({"method": request.method, "path": request.path, "headers": dict(request.headers),
                              "body": body})
        number = len(self.requests)
        if self.on_request is not None:
            self.on_request()
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            if self.hold and self.hold in body:
                await self.release.wait()
        finally:
            self.active -= 1
        return web.Response(status=self.status, text=json.dumps({"id": f"gw-{number}"}) if self.status < 300
                            else "quota exceeded")

    async def start(self, tmp: Path) -> "FakeGateway":
        """Listen on HTTPS on a free localhost port with a fresh self-signed certificate."""
        cert, key = tmp / "gw.pem", tmp / "gw.key"
        make_self_signed(cert, key, "localhost")
        app = web.Application()
        app.router.add_route("*", "/send", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=server_context(cert, key))
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url, self.cafile = f"https://localhost:{port}/send", str(cert)
        return self

    async def stop(self) -> None:
        """Close the listener."""
        if self.runner is not None:
            await self.runner.cleanup()
