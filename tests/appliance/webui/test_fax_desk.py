"""The desk's fax routes over HTTP: queue a fax from a ticket (CSRF, number, type and size checks), list the
ticket's faxes with the page on the line while sending, the transmission report; another tenant's agent sees
none of it."""
from __future__ import annotations

import aiohttp

from tests.appliance.api.client import tenant_with_admin, user_client
from tests.appliance.webui.helpers import csrf_from, login
from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup


def form(number: str = "+49 40 999 000", cover: str = "", file: bytes | None = None,
         name: str = "letter.pdf") -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("number", number)
    data.add_field("cover", cover)
    if file is not None:
        data.add_field("file", file, filename=name, content_type="application/octet-stream")
    return data


async def test_desk_fax_routes(appliance, first_boot, http) -> None:
    from appliance.fax.models import FaxOutbox
    office = await office_setup(appliance, first_boot, http)
    _, globex = await tenant_with_admin(office["admin"], "Globex")
    await user_client(globex, "gus")
    ticket = office["ticket"]["id"]
    url = f"/desk/tickets/{ticket}/faxes"

    await login(http, "agnes", AGENT_PASSWORD)
    token = await csrf_from(http, "/desk")
    h = {"X-CSRF-Token": token}
    async with http.post(url, data=form(cover="Hallo")) as r:
        assert r.status == 403  # no CSRF token
    async with http.post(url, data=form(number="not a number", cover="Hallo"), headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "number"
    async with http.post(url, data=form(), headers=h) as r:
        body = await r.json()
        assert r.status == 400 and body["field"] == "cover" and "cover text or choose a document" in body["message"]
    async with http.post(url, data=form(file=b"<html>not a document</html>"), headers=h) as r:
        assert r.status == 400 and "not a PDF, PNG, JPEG or TIFF" in (await r.json())["message"]
    async with http.post(url, data=form(file=b"%PDF-1.4 broken"), headers=h) as r:
        assert r.status == 400 and "PDF file cannot be turned into fax pages" in (await r.json())["message"]
    async with http.post(url, data=form(file=b"\0" * (20 * 1024 * 1024 + 1)), headers=h) as r:
        assert r.status == 400 and (await r.json())["error"] == "too_large"
    async with http.post(url, data=form(cover="Sehr geehrter Herr Łukasiewicz,\nanbei die Rechnung."),
                         headers=h) as r:
        job = await r.json()
        assert r.status == 201, job
        assert job["number"] == "+4940999000" and job["page_count"] == 1 and job["state"] == "queued"

    # While a fax is being sent the list says which page is on the line.
    await appliance.db.call(lambda: FaxOutbox.update(state="sending", attempts=1, next_at=FaxOutbox.next_at)
                            .where(FaxOutbox.id == job["id"]).execute())
    appliance.supervisor.service("fax").progress[job["id"]] = {"phase": "page", "page": 1, "of": 1}
    async with http.get(url) as r:
        listed = await r.json()
        assert r.status == 200 and listed["running"] is True
        assert [(i["id"], i["state"], i["progress"]["page"]) for i in listed["items"]] == [(job["id"], "sending", 1)]
    async with http.get(job["report_url"]) as r:
        page = await r.text()
        assert r.status == 200 and "+4940999000" in page and "No page has gone out yet." in page

    http.cookie_jar.clear()
    await login(http, "gus", "gus-Pass-123")
    token = await csrf_from(http, "/desk")
    async with http.get(url) as r:
        assert r.status == 404
    async with http.post(url, data=form(cover="Hallo"), headers={"X-CSRF-Token": token}) as r:
        assert r.status == 404
    async with http.get(job["report_url"]) as r:
        assert r.status == 404
