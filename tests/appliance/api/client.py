"""Talking to the REST API like another system does: bearer tokens, JSON."""
from __future__ import annotations

from typing import Any

import aiohttp

API = "/api/v1"
ADMIN_PASSWORD = "Correct-Horse-42"


class ApiClient:
    """JSON calls with one bearer token."""

    def __init__(self, http: aiohttp.ClientSession, token: str) -> None:
        self.http, self.token = http, token

    async def call(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] | None = None,
                   **params: Any) -> tuple[int, Any]:
        """(status, decoded JSON or text); asserts the status when `expect` is given."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, API + path, json=body, headers=headers,
                                     params={k: str(v) for k, v in params.items()}) as resp:
            data = await resp.json() if resp.content_type == "application/json" else await resp.text()
            if expect is not None:
                wanted = expect if isinstance(expect, tuple) else (expect,)
                assert resp.status in wanted, (method, path, resp.status, data)
            return resp.status, data

    async def get(self, path: str, **params: Any) -> Any:
        """GET expecting 200."""
        return (await self.call("GET", path, expect=200, **params))[1]

    async def post(self, path: str, body: Any, expect: int | tuple[int, ...] = (200, 201)) -> Any:
        """POST expecting success."""
        return (await self.call("POST", path, body, expect=expect))[1]

    async def patch(self, path: str, body: Any) -> Any:
        """PATCH expecting 200."""
        return (await self.call("PATCH", path, body, expect=200))[1]


async def token_for(http: aiohttp.ClientSession, username: str, password: str) -> str:
    """A bearer token from a user name and password."""
    async with http.post(API + "/auth/token", json={"username": username, "password": password}) as resp:
        data = await resp.json()
        assert resp.status == 200, data
        return data["token"]


async def admin_client(http: aiohttp.ClientSession, one_time: str) -> ApiClient:
    """The system admin over the API, with the forced first password change done through the API."""
    async with http.post(API + "/auth/token", json={"username": "admin", "password": one_time}) as resp:
        assert resp.status == 403 and (await resp.json())["error"] == "password_change_required"
    async with http.post(API + "/auth/password", json={"username": "admin", "password": one_time,
                                                       "new_password": ADMIN_PASSWORD}) as resp:
        assert resp.status == 200, await resp.text()
    return ApiClient(http, await token_for(http, "admin", ADMIN_PASSWORD))


async def tenant_with_admin(admin: ApiClient, name: str) -> tuple[dict, ApiClient]:
    """A new tenant and a client for its own admin."""
    tenant = await admin.post("/tenants", {"name": name, "region": "DE"})
    password = f"Tenant-{name}-Pass-1"
    await admin.post("/users", {"username": f"{name.lower()}-admin", "tenant_id": tenant["id"], "role": "admin",
                                "password": password})
    return tenant, ApiClient(admin.http, await token_for(admin.http, f"{name.lower()}-admin", password))


async def user_client(owner: ApiClient, username: str, role: str = "agent", **extra: Any) -> tuple[dict, ApiClient]:
    """A user made by a tenant admin, and a client acting as them."""
    password = f"{username}-Pass-123"
    user = await owner.post("/users", {"username": username, "role": role, "password": password, **extra})
    return user, ApiClient(owner.http, await token_for(owner.http, username, password))
