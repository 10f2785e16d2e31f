"""The console's text block and template pages: create through the form (CSRF), a wrong variable shown beside
its field, the preview rendered against the sample ticket, search, delete, an agent's personal view, German."""
from __future__ import annotations

from appliance.domain import textvars
from appliance.webui import routes_content
from tests.appliance.api.client import user_client
from tests.appliance.webui.helpers import csrf_from, login
from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup

TENANT_ADMIN_PASSWORD = "Tenant-Acme-Pass-1"


def test_every_variable_meaning_is_in_the_catalogue_list() -> None:
    assert set(routes_content.MEANINGS) == {meaning for meaning, _ in textvars.VARIABLES.values()}


async def test_admin_keeps_text_blocks_and_templates_in_the_console(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    await login(http, "acme-admin", TENANT_ADMIN_PASSWORD)
    async with http.get("/admin/text-blocks") as r:
        page = await r.text()
        assert r.status == 200 and "No text blocks yet" in page
    token = await csrf_from(http, "/admin/text-blocks/new")
    form = {"csrf_token": token, "shortcut": "rechnung", "title": "Rechnung unterwegs", "category": "Billing",
            "language": "de", "visibility": "tenant", "active": "1", "channels": "mail",
            "body_text": "Guten Tag {{ customer.nam }},"}
    async with http.post("/admin/text-blocks/new", data=form) as r:
        page = await r.text()
        assert r.status == 400 and 'id="e-body_text"' in page and "customer.nam" in page
    async with http.post("/admin/text-blocks/new", data={k: v for k, v in form.items() if k != "csrf_token"}) as r:
        assert r.status == 403
    form["body_text"] = "Guten Tag {{ customer.name }}, Ihre Rechnung zu Ticket {{ ticket.number }} ist unterwegs."
    async with http.post("/admin/text-blocks/new", data=form, allow_redirects=False) as r:
        assert r.status == 302
        where = r.headers["Location"]
    async with http.get(where) as r:
        page = await r.text()
    assert "Guten Tag Zbigniew Łukasiewicz, Ihre Rechnung zu Ticket 4711 ist unterwegs." in page  # the preview
    assert "{{ customer.name }}" in page  # the variables table
    async with http.get("/admin/text-blocks", params={"q": "unterwegs"}) as r:
        assert "#rechnung" in await r.text()
    async with http.get("/admin/text-blocks", params={"q": "nothing-like-this"}) as r:
        assert "Nothing matches." in await r.text()

    token = await csrf_from(http, "/admin/reply-templates/new")
    async with http.post("/admin/reply-templates/new", allow_redirects=False, data={
            "csrf_token": token, "name": "Support DE", "mailbox_id": str(office["mailbox"]["id"]), "language": "de",
            "visibility": "tenant", "is_default": "1", "active": "1", "salutation": "Guten Tag {{ customer.name }},",
            "body_text": "", "signature": "{{ agent.name }}\n{{ mailbox.name }}"}) as r:
        assert r.status == 302, await r.text()
        template_page = r.headers["Location"]
    async with http.get(template_page) as r:
        page = await r.text()
    assert "Guten Tag Zbigniew Łukasiewicz," in page and "Agnes Åström\nSupport" in page  # salutation, signature
    assert f'&#34;template_id&#34;: {template_page.split("/")[-1].split("?")[0]}}}' in page
    async with http.get("/admin/reply-templates") as r:
        page = await r.text()
        assert "Support DE" in page and "yes" in page

    # The agent sees the tenant's block but cannot change it; their own blocks are theirs alone.
    http.cookie_jar.clear()
    await login(http, "agnes", AGENT_PASSWORD)
    block_id = int(where.split("/")[-1].split("?")[0])
    token = await csrf_from(http, "/admin/text-blocks/new")
    async with http.post(f"/admin/text-blocks/{block_id}", data={**form, "csrf_token": token, "title": "x"}) as r:
        assert r.status == 403
    async with http.post("/admin/text-blocks/new", allow_redirects=False, data={
            "csrf_token": token, "shortcut": "gruss", "title": "Mein Gruß", "visibility": "personal", "active": "1",
            "body_text": "Viele Grüße\n{{ agent.name }}"}) as r:
        assert r.status == 302
        mine = r.headers["Location"].split("?")[0]
    async with http.post(f"{mine}/delete", data={"csrf_token": token}, allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == "/admin/text-blocks?deleted=1"
    async with http.post(f"/admin/text-blocks/{block_id}/delete", data={"csrf_token": token}) as r:
        assert r.status == 403

    # In German.
    async with http.post("/account/language", data={"csrf_token": token, "language": "de", "next": "/"},
                         allow_redirects=False) as r:
        assert r.status == 302
    async with http.get(f"/admin/text-blocks/{block_id}") as r:
        page = await r.text()
    assert "Vorschau mit dem Beispielticket" in page and "der Name des Kunden" in page


async def test_another_tenant_sees_none_of_it(appliance, first_boot, http) -> None:
    office = await office_setup(appliance, first_boot, http)
    block = await office["acme"].post("/text-blocks", {"shortcut": "geheim", "title": "Geheim", "body_text": "x"})
    from tests.appliance.api.client import tenant_with_admin
    _, globex = await tenant_with_admin(office["admin"], "Globex")
    await user_client(globex, "gustav")
    await login(http, "gustav", "gustav-Pass-123")
    async with http.get(f"/admin/text-blocks/{block['id']}") as r:
        assert r.status == 404
    async with http.get("/admin/text-blocks") as r:
        assert "geheim" not in await r.text()
