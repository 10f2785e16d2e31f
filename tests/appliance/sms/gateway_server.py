"""A real aiohttp HTTPS server playing an SMS gateway for the tests: it records each request and
answers with the status the test sets."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request, answer with `status`."""
        self.requests.append({"method": request.method, "path": request.path, "headers": dict(request.headers),
                              "body": await request.read()})
        return web.Response(status=self.status, text='{"id": "gw-1"}' if self.status < 300 else "quota exceeded")

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
