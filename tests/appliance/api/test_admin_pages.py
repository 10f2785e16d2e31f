"""The admin console's organisation pages, used like a browser: forms with CSRF, messages next to
fields, edit, disable, search, paging, audit trail; the session API still needs CSRF."""
from __future__ import annotations

import re

from tests.appliance.webui.helpers import csrf_from, login_admin

API = "/api/v1"


async def _post(http, path: str, data: dict, token: str):
    async with http.post(path, data={**data, "csrf_token": token}, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


async def test_admin_console_pages(appliance, first_boot, http) -> None:
    await login_admin(http, first_boot.admin_password)
    async with http.get("/admin/org") as resp:
        page = await resp.text()
        assert resp.status == 200 and 'href="/admin/org/tenants"' in page and 'href="/admin/org"' in page
    token = await csrf_from(http, "/admin/org/tenants/new")
    # A bad value is shown next to its field, with the field marked and focused for keyboard users.
    status, _, page = await _post(http, "/admin/org/tenants/new", {"name": "", "timezone": "Nowhere/Land"}, token)
    assert status == 400
    assert re.search(r'id="e-name">is required<', page) and re.search(r'id="e-timezone">is not a known', page)
    assert 'aria-invalid="true" aria-describedby="e-name"' in page
    status, location, _ = await _post(http, "/admin/org/tenants/new", {"name": "Acme", "region": "at"}, token)
    assert status == 302 and location.startswith("/admin/org/tenants/")
    tenant_id = int(location.split("/")[-1].split("?")[0])
    async with http.get(location) as resp:
        page = await resp.text()
        assert "Created." in page and 'value="AT"' in page
    # Users: a one-time password is shown once after creating.
    status, location, _ = await _post(http, "/admin/org/users/new",
                                      {"username": "lead", "role": "team_lead", "tenant_id": str(tenant_id)}, token)
    assert status == 302 and "otp=" in location
    async with http.get(location) as resp:
        assert "One-time password" in await resp.text()
    # Teams with a parent chosen by id; a cycle is refused next to the parent field.
    for name in ("Sales", "Sales North"):
        status, location, _ = await _post(http, "/admin/org/teams/new", {"name": name, "tenant_id": str(tenant_id),
                                                                          "kind": "hierarchical"}, token)
        assert status == 302, name
    teams = await (await http.get(API + "/teams", headers={"Accept": "application/json"})).json()
    sales, north = [t["id"] for t in teams["items"]]
    status, _, _ = await _post(http, f"/admin/org/teams/{north}", {"name": "Sales North", "parent_id": str(sales),
                                                                    "active": "1", "settings": "{}"}, token)
    assert status == 302
    status, _, page = await _post(http, f"/admin/org/teams/{sales}", {"name": "Sales", "parent_id": str(north)},
                                  token)
    assert status == 400 and 'id="e-parent_id">would make the hierarchy cyclic' in page
    # Mailboxes with addresses in a textarea, one per line.
    status, location, _ = await _post(http, "/admin/org/mailboxes/new",
                                      {"name": "Info", "tenant_id": str(tenant_id),
                                       "addresses": "info@acme.example\n+43 1 234567"}, token)
    assert status == 302
    async with http.get(location) as resp:
        assert "info@acme.example\nphone:+431234567" in (await resp.text()).replace("email:", "")
    # Disable from the list; the list shows it; search and paging.
    status, _, _ = await _post(http, f"/admin/org/teams/{north}/active", {"active": "0"}, token)
    assert status == 302
    async with http.get("/admin/org/teams") as resp:
        page = await resp.text()
        assert 'class="inactive"' in page and "Enable" in page and 'data-hotkey="/"' in page
    for i in range(30):
        await _post(http, "/admin/org/staff/new", {"name": f"Person {i:02d}", "tenant_id": str(tenant_id),
                                                   "department": "Back office" if i == 7 else "Front"}, token)
    async with http.get("/admin/org/staff") as resp:
        page = await resp.text()
        assert page.count("Person ") == 25 and 'rel="next"' in page
        next_url = re.search(r'href="(/admin/org/staff\?[^"]*cursor=\d+)"', page).group(1).replace("&amp;", "&")
    async with http.get(next_url) as resp:
        assert (await resp.text()).count("Person ") == 5
    async with http.get("/admin/org/staff", params={"q": "Back office"}) as resp:
        page = await resp.text()
        assert "Person 07" in page and "Person 08" not in page
    async with http.get("/admin/audit") as resp:
        page = await resp.text()
        assert resp.status == 200 and "create" in page and "admin" in page
    async with http.get("/admin/org/nonsense") as resp:
        assert resp.status == 404
    async with http.get("/admin/org/tickets/999999") as resp:
        assert resp.status == 404
    # The session-authenticated API refuses state changes without the CSRF header, accepts with it.
    async with http.post(API + "/skills", json={"name": "x", "tenant_id": tenant_id}) as resp:
        assert resp.status == 403
    async with http.post(API + "/skills", json={"name": "x", "tenant_id": tenant_id},
                         headers={"X-CSRF-Token": token}) as resp:
        assert resp.status == 201
    async with http.get(API + "/openapi.json") as resp:
        doc = await resp.json()
    assert doc["openapi"].startswith("3.") and "/api/v1/tickets/{id}/actions" in doc["paths"]
    assert doc["paths"]["/api/v1/mailboxes"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "properties"]["addresses"]["type"] == "array"
