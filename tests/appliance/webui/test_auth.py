"""Log in, forced password change, CSRF, lockout, rate limit, cookies, HTTPS only."""
from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest

from appliance.webui.app import SESSION_COOKIE
from tests.appliance.webui.helpers import csrf_from, login, login_admin


async def test_first_login_forces_password_change(appliance, first_boot, http) -> None:
    resp = await login(http, "admin", first_boot.admin_password)
    assert resp.status == 302 and resp.headers["Location"] == "/account/password"
    # Until the password is changed, every other page sends back to the change form.
    async with http.get("/admin", allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == "/account/password"
    token = await csrf_from(http, "/account/password")
    async with http.post("/account/password", data={"current_password": first_boot.admin_password,
                                                    "new_password": "short", "repeat": "short",
                                                    "csrf_token": token}) as r:
        assert r.status == 400 and "at least 10 characters" in await r.text()
    await login_admin(http, first_boot.admin_password)
    async with http.get("/admin") as r:
        page = await r.text()
        assert r.status == 200 and "Services" in page and "webui" in page and "not built yet" in page


async def test_old_one_time_password_stops_working(appliance, first_boot, http) -> None:
    await login_admin(http, first_boot.admin_password)
    http.cookie_jar.clear()
    assert (await login(http, "admin", first_boot.admin_password)).status == 401
    assert (await login(http, "admin", "Correct-Horse-42")).headers["Location"] == "/admin"


async def test_session_cookie_flags(appliance, first_boot, http) -> None:
    resp = await login(http, "admin", first_boot.admin_password)
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"


async def test_post_without_csrf_token_is_refused(appliance, first_boot, http) -> None:
    await login_admin(http, first_boot.admin_password)
    async with http.post("/admin/services/scheduler/restart", data={}, allow_redirects=False) as r:
        assert r.status == 403
    async with http.post("/admin/services/scheduler/restart", data={"csrf_token": "forged"},
                         allow_redirects=False) as r:
        assert r.status == 403
    token = await csrf_from(http, "/admin")
    async with http.post("/admin/services/scheduler/restart", data={"csrf_token": token},
                         allow_redirects=False) as r:
        assert r.status == 302
    assert appliance.supervisor.records["scheduler"].restarts == 1


async def test_lockout_after_repeated_failures(appliance, first_boot, http) -> None:
    for _ in range(4):
        assert (await login(http, "admin", "wrong-password")).status == 401
    token = await csrf_from(http, "/login")
    async with http.post("/login", data={"username": "admin", "password": "wrong", "csrf_token": token}) as r:
        assert r.status == 401 and "locked" in await r.text()
    # Even the right password is refused while locked.
    token = await csrf_from(http, "/login")
    async with http.post("/login", data={"username": "admin", "password": first_boot.admin_password,
                                         "csrf_token": token}) as r:
        assert r.status == 401 and "locked" in await r.text()


async def test_login_rate_limit_per_address(appliance, http) -> None:
    limit = appliance.config.get("security", "login_rate_per_min")
    statuses = []
    for i in range(limit + 2):
        statuses.append((await login(http, f"nobody{i}", "x")).status)
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429, 429]


async def test_logout_ends_the_session(appliance, first_boot, http) -> None:
    await login_admin(http, first_boot.admin_password)
    token = await csrf_from(http, "/admin")
    async with http.post("/logout", data={"csrf_token": token}, allow_redirects=False) as r:
        assert r.headers["Location"] == "/login"
    async with http.get("/admin", allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"].startswith("/login")


async def test_agents_do_not_see_admin_pages(appliance, first_boot, http) -> None:
    from appliance.models import User
    from appliance.security.passwords import hash_password
    await appliance.db.call(User.create, username="agnes", role="agent",
                            password_hash=hash_password("Agent-Pass-123"))
    await login(http, "agnes", "Agent-Pass-123")
    async with http.get("/admin", allow_redirects=False) as r:
        assert r.status == 403


async def test_security_headers(appliance, http) -> None:
    async with http.get("/login") as r:
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_plain_http_on_the_https_port_serves_nothing(appliance) -> None:
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(aiohttp.ClientError):
            async with plain.get(f"http://127.0.0.1:{appliance.web_port}/login") as r:
                await r.read()


async def test_certificate_names_localhost_and_loopback(appliance) -> None:
    ctx = ssl.create_default_context(cafile=str(appliance.data.cert))
    reader, writer = await asyncio.open_connection("127.0.0.1", appliance.web_port, ssl=ctx,
                                                   server_hostname="127.0.0.1")
    writer.close()
    await writer.wait_closed()


async def test_healthz_is_public_and_reveals_nothing_sensitive(appliance, http) -> None:
    async with http.get("/healthz") as r:
        body = await r.json()
    assert body["status"] in ("ok", "degraded")
    assert body["services"]["webui"] == {"state": "running", "restarts": 0}
    assert body["services"]["isdn_fax"]["state"] == "disabled"
    assert set(body) == {"status", "services"}
    assert all(set(s) == {"state", "restarts"} for s in body["services"].values())
