"""Import and export (G10) in the admin console, used like a browser: the list page offers both, an export is
the API's CSV, a good file is imported whole, a bad one is refused whole with each bad cell named."""
from __future__ import annotations

import re

import aiohttp

from tests.appliance.webui.helpers import csrf_from, login_admin


async def upload(http, kind: str, text: str, token: str) -> tuple[int, str, str]:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", text.encode(), filename=f"{kind}.csv", content_type="text/csv")
    async with http.post(f"/admin/org/{kind}/import", data=form, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


async def test_customers_import_and_export_from_the_list_page(appliance, first_boot, http) -> None:
    await login_admin(http, first_boot.admin_password)
    token = await csrf_from(http, "/admin/org/tenants/new")
    async with http.post("/admin/org/tenants/new", data={"name": "Acme", "csrf_token": token},
                         allow_redirects=False) as resp:
        tenant_id = int(resp.headers["Location"].split("/")[-1].split("?")[0])
    async with http.get("/admin/org/customers") as resp:
        page = await resp.text()
    assert 'href="/admin/org/customers/export.csv"' in page and 'action="/admin/org/customers/import"' in page
    token = await csrf_from(http, "/admin/org/customers")

    bad = f"name,tenant_id,emails\nAnne,{tenant_id},anne@example.org\nBert,{tenant_id},not-mail\n"
    status, _, page = await upload(http, "customers", bad, token)
    assert status == 400 and "rows[1].emails[0]" in page and 'role="alert"' in page
    async with http.get("/admin/org/customers/export.csv") as resp:
        assert resp.status == 200 and "Anne" not in await resp.text()  # all or nothing

    good = f"name,tenant_id,number,phones\nAnne,{tenant_id},A-1,030 111111\nBert GmbH,{tenant_id},B-2,\n"
    status, location, _ = await upload(http, "customers", good, token)
    assert status == 302 and location == "/admin/org/customers?imported=2"
    async with http.get(location) as resp:
        assert re.search(r'class="notice" role="status">[^<]*\b2\b', await resp.text())  # in any UI language
    async with http.get("/admin/org/customers/export.csv") as resp:
        text = await resp.text()
        assert resp.headers["Content-Disposition"] == 'attachment; filename="customers.csv"'
    assert text.splitlines()[0].startswith("id,kind,name,number") and "+4930111111" in text and "B-2" in text

    # Without the form's token the import is refused before anything is read.
    status, _, _ = await upload(http, "customers", good, "forged")
    assert status == 403
    # Kinds without an import have no such page.
    async with http.get("/admin/org/teams/export.csv") as resp:
        assert resp.status == 404
