"""Logging in like a browser does."""
from __future__ import annotations

import re

import aiohttp

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_from(http: aiohttp.ClientSession, path: str) -> str:
    """The CSRF token of the form on a page."""
    async with http.get(path) as resp:
        match = CSRF_RE.search(await resp.text())
        assert match, f"no CSRF token on {path}"
        return match.group(1)


async def login(http: aiohttp.ClientSession, username: str, password: str) -> aiohttp.ClientResponse:
    """Submit the login form; returns the (unfollowed) response."""
    token = await csrf_from(http, "/login")
    async with http.post("/login", data={"username": username, "password": password, "csrf_token": token},
                         allow_redirects=False) as resp:
        await resp.read()
        return resp


async def login_admin(http: aiohttp.ClientSession, one_time: str, new: str = "Correct-Horse-42") -> None:
    """First login of the admin: the forced password change included."""
    resp = await login(http, "admin", one_time)
    assert resp.headers["Location"] == "/account/password"
    token = await csrf_from(http, "/account/password")
    async with http.post("/account/password", data={"current_password": one_time, "new_password": new,
                                                    "repeat": new, "csrf_token": token},
                         allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/admin"
