"""Outage tickets (D13) in the admin console, used like a browser: link tickets to an outage ticket by its
number (a bad number is named on the page), see them listed on it, and close it with one message to each."""
from __future__ import annotations

import re

from appliance.mail.models import MailOutbox
from tests.appliance.api.client import API
from tests.appliance.webui.helpers import csrf_from, login_admin


async def post(http, path: str, data: dict) -> tuple[int, str, str]:
    async with http.post(path, data=data, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


async def api(http, token: str, method: str, path: str, body: dict) -> dict:
    async with http.request(method, API + path, json=body, headers={"X-CSRF-Token": token}) as resp:
        assert resp.status in (200, 201), await resp.text()
        return await resp.json()


async def test_link_list_and_close_an_outage_from_the_ticket_page(appliance, first_boot, http) -> None:
    await login_admin(http, first_boot.admin_password)
    token = await csrf_from(http, "/admin/org/tenants/new")
    status, location, _ = await post(http, "/admin/org/tenants/new", {"name": "Acme", "csrf_token": token})
    tenant = int(location.split("/")[-1].split("?")[0])
    box = await api(http, token, "POST", "/mailboxes", {"name": "Support", "tenant_id": tenant,
                                                         "addresses": ["support@acme.example"]})
    outage = await api(http, token, "POST", "/tickets", {"subject": "Network outage", "tenant_id": tenant})
    customer = await api(http, token, "POST", "/customers", {"name": "Anne", "tenant_id": tenant,
                                                             "emails": ["anne@example.org"]})
    child = await api(http, token, "POST", "/tickets", {"subject": "no internet", "channel": "mail",
                                                        "tenant_id": tenant, "customer_id": customer["id"],
                                                        "mailbox_id": box["id"]})

    page_of = f"/admin/org/tickets/{child['id']}"
    status, _, page = await post(http, f"{page_of}/link", {"master_id": "abc", "csrf_token": token})
    assert status == 400 and 'id="outage-error"' in page and 'aria-invalid="true"' in page
    status, _, page = await post(http, f"{page_of}/link", {"master_id": str(child["id"]), "csrf_token": token})
    assert status == 400 and "another ticket" in page
    status, location, _ = await post(http, f"{page_of}/link", {"master_id": f"#{outage['id']}",
                                                               "csrf_token": token})
    assert status == 302 and location == f"{page_of}?linked=1"
    async with http.get(location) as resp:
        page = await resp.text()
    assert f'href="/admin/org/tickets/{outage["id"]}"' in page and re.search(r'role="status">[^<]+<', page)

    async with http.get(f"/admin/org/tickets/{outage['id']}") as resp:
        page = await resp.text()
    assert f'href="/admin/org/tickets/{child["id"]}"' in page and 'action="/admin/org/tickets/' in page
    status, location, _ = await post(http, f"/admin/org/tickets/{outage['id']}/close-outage",
                                     {"child_message": "Fixed, sorry!", "csrf_token": token})
    assert status == 302 and location.endswith("?closed=1")
    for ticket in (outage, child):
        async with http.get(API + f"/tickets/{ticket['id']}") as resp:
            assert (await resp.json())["state"] == "done"
    rows = await appliance.db.call(lambda: [(r.rcpt_to, bytes(r.raw)) for r in
                                            MailOutbox.select().where(MailOutbox.ticket == child["id"])])
    assert len(rows) == 1 and "anne@example.org" in rows[0][0] and b"Fixed, sorry!" in rows[0][1]
    async with http.get(f"/admin/org/tickets/{outage['id']}") as resp:
        assert "close-outage" not in await resp.text()  # nothing left to close
    status, _, _ = await post(http, f"/admin/org/tickets/{outage['id']}/close-outage",
                              {"child_message": "x", "csrf_token": "forged"})
    assert status == 403
