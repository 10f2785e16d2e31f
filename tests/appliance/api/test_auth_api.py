"""Token auth, forced password change, scoped long-lived tokens, CSRF exemption of bearer requests."""
from __future__ import annotations

from tests.appliance.api.client import API, ApiClient, admin_client, tenant_with_admin, token_for, user_client


async def test_token_flow_password_change_and_scoped_tokens(appliance, first_boot, http) -> None:
    async with http.get(API + "/tenants") as resp:
        assert resp.status == 401 and (await resp.json())["error"] == "login_required"
    async with http.post(API + "/auth/token", json={"username": "admin", "password": "wrong"}) as resp:
        assert resp.status == 401 and (await resp.json())["error"] == "bad_credentials"
    async with http.post(API + "/auth/token", data=b"{not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400 and "body" in (await r.json())["fields"]
    admin = await admin_client(http, first_boot.admin_password)
    me = await admin.get("/auth/me")
    assert me["username"] == "admin" and me["tenant_id"] is None and "tenants.write" in me["permissions"]
    # A bad token is refused; no cookie was ever set, and no CSRF token is needed for bearer requests.
    assert (await ApiClient(http, "apt_forged").call("GET", "/auth/me"))[0] == 401
    assert not http.cookie_jar.filter_cookies(http._base_url)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    # A user given a one-time password must change it before getting a token.
    created = await acme.post("/users", {"username": "otp-user", "role": "agent"})
    one_time = created["one_time_password"]
    async with http.post(API + "/auth/token", json={"username": "otp-user", "password": one_time}) as resp:
        assert resp.status == 403 and (await resp.json())["error"] == "password_change_required"
    async with http.post(API + "/auth/password", json={"username": "otp-user", "password": one_time,
                                                       "new_password": "short"}) as resp:
        assert resp.status == 400 and "new_password" in (await resp.json())["fields"]
    async with http.post(API + "/auth/password", json={"username": "otp-user", "password": one_time,
                                                       "new_password": "Otp-User-Pass-9"}) as resp:
        assert resp.status == 200
    await token_for(http, "otp-user", "Otp-User-Pass-9")
    # Long-lived token with a read-only scope: reads work, writes are 403.
    lt = await acme.post("/tokens", {"name": "crm", "scopes": ["customers.read"]})
    assert lt["token"].startswith("apt_") and lt["scopes"] == ["customers.read"]
    crm = ApiClient(http, lt["token"])
    assert (await crm.get("/customers"))["items"] == []
    status, body = await crm.call("POST", "/customers", {"name": "X"})
    assert status == 403 and body["error"] == "forbidden"
    assert (await crm.call("GET", "/tickets"))[0] == 403
    status, body = await acme.call("POST", "/tokens", {"name": "x", "scopes": ["root"]})
    assert status == 400 and "scopes" in body["fields"]
    listed = await acme.get("/tokens")
    assert [t["name"] for t in listed["items"]] == ["crm"] and "token" not in listed["items"][0]
    # An agent may not make tokens; revoking stops the token at once.
    _, agent = await user_client(acme, "agent1")
    assert (await agent.call("POST", "/tokens", {"name": "mine"}))[0] == 403
    await acme.call("DELETE", f"/tokens/{lt['id']}", expect=200)
    assert (await crm.call("GET", "/customers"))[0] == 401
    assert tenant["id"] > 0

