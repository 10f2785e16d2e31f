"""Every registered route refuses an anonymous request unless it is deliberately public."""
from __future__ import annotations

import re

from appliance.webui.security import PUBLIC_PREFIXES, PUBLIC_ROUTES
from appliance.webui.keys import SUPERVISOR


def _concrete(path: str) -> str:
    # Fill every {placeholder} (with or without a regex) with a plausible value.
    return re.sub(r"\{[^}]+\}", "x1", path)


async def test_every_route_needs_a_login_unless_public(appliance, http) -> None:
    app = appliance.supervisor.service("webui").runner.app
    assert app[SUPERVISOR] is appliance.supervisor
    checked = 0
    for route in app.router.routes():
        method = route.method
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if method == "HEAD" or path is None:
            continue
        if info.get("prefix") and path.startswith(PUBLIC_PREFIXES[0].rstrip("/")):
            continue  # static assets are public by design
        url = _concrete(path)
        async with http.request(method, url, allow_redirects=False) as resp:
            public = (method, path) in PUBLIC_ROUTES
            if public:
                assert resp.status < 500, (method, path)
                continue
            checked += 1
            if resp.status == 302:
                assert resp.headers["Location"].startswith("/login"), (method, path)
            else:
                assert resp.status == 401, (method, path, resp.status)
    assert checked >= 4  # the admin pages at least; grows as routes are added
