"""Prompt versions and activation (B10) over HTTP: uploads add versions, activation now, in a time window or by
the queue's calendar (holiday, closed), preview per version, the script steps that use a prompt, deletion
refused while used, and tenants kept apart."""
from __future__ import annotations

import datetime
import json

import aiohttp

from tests.appliance.api.client import admin_client, tenant_with_admin
from tests.appliance.webui.helpers import csrf_from, login
from tests.appliance.webui.test_acd_config_api import upload, wav_bytes


def form(name: str, data: bytes, activate: str = "now", language: str = "sv") -> aiohttp.FormData:
    f = upload(name, data, language)
    f.add_field("activate", activate)
    return f


async def _tenant_session(http, first_boot):
    """Tenant Acme with a queue, and a browser session of its admin (CSRF header ready)."""
    admin = await admin_client(http, first_boot.admin_password)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    await login(http, "acme-admin", "Tenant-Acme-Pass-1")
    return admin, tenant, acme, {"X-CSRF-Token": await csrf_from(http, "/admin/queues")}


async def _queue(appliance, tenant_id: int, script: str, calendar: dict | None = None) -> None:
    def make():
        from appliance.models.acd import AcdQueue, QueueScriptVersion
        queue = AcdQueue.create(tenant=tenant_id, key="acme", name="Acme", calendar=json.dumps(calendar or {}))
        QueueScriptVersion.create(queue=queue, version=1, text=script, active=True)
    await appliance.db.call(make)


async def test_uploads_become_versions_activated_now_or_later(appliance, first_boot, http) -> None:
    _, tenant, _, h = await _tenant_session(http, first_boot)
    one, two = wav_bytes(0.5), wav_bytes(0.75)
    async with http.post("/api/v1/acd/prompts", data=form("welcome", one), headers=h) as r:
        first = await r.json()
        assert r.status == 201 and first["version"] == 1 and first["active_version"] == 1
    async with http.post("/api/v1/acd/prompts", data=form("welcome", two, "later"), headers=h) as r:
        second = await r.json()
        assert second["id"] == first["id"] and second["version"] == 2 and second["active_version"] == 1
    async with http.get(f"/api/v1/acd/prompts/{first['id']}") as r:
        detail = await r.json()
    assert [v["version"] for v in detail["versions"]] == [2, 1] and detail["now"] == {"version": 1, "reason": "active"}
    async with http.get(detail["versions"][0]["audio_url"]) as r:
        assert await r.read() == two, "each version keeps its own audio for preview"
    async with http.get(f"/api/v1/acd/prompts/{first['id']}/audio") as r:
        assert await r.read() == one, "the catalogue's audio is the active version's"
    async with http.post(f"/api/v1/acd/prompts/{first['id']}/activate", json={"version": 3}, headers=h) as r:
        assert r.status == 400 and "version" in (await r.json())["fields"]
    async with http.post(f"/api/v1/acd/prompts/{first['id']}/activate", json={"version": 2}, headers=h) as r:
        assert r.status == 200 and (await r.json())["active_version"] == 2
    async with http.get(f"/api/v1/acd/prompts/{first['id']}/audio") as r:
        assert await r.read() == two


async def test_the_first_version_of_a_new_prompt_waits_when_later_is_chosen(appliance, first_boot, http) -> None:
    _, tenant, _, h = await _tenant_session(http, first_boot)
    await _queue(appliance, tenant["id"], "play welcome\nqueue\n")
    audio = wav_bytes(0.5)
    async with http.post("/api/v1/acd/prompts", data=form("welcome", audio, "later"), headers=h) as r:
        body = await r.json()
        assert r.status == 201 and body["version"] == 1 and body["active_version"] is None
    async with http.get(f"/api/v1/acd/prompts/{body['id']}") as r:
        detail = await r.json()
    assert detail["now"] == {"version": None, "reason": "none"}
    assert [v["active"] for v in detail["versions"]] == [False]
    async with http.get("/api/v1/acd/queues/acme/prompts/welcome/audio", params={"language": "sv"}) as r:
        assert r.status == 404, "callers hear nothing new until the version is activated"
    async with http.post(f"/api/v1/acd/prompts/{body['id']}/activate", json={"version": 1}, headers=h) as r:
        assert r.status == 200
    async with http.get("/api/v1/acd/queues/acme/prompts/welcome/audio", params={"language": "sv"}) as r:
        assert r.status == 200 and r.headers["X-Prompt-Version"] == "1" and await r.read() == audio


async def test_scheduled_and_calendar_rules_pick_the_version(appliance, first_boot, http) -> None:
    _, tenant, _, h = await _tenant_session(http, first_boot)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    await _queue(appliance, tenant["id"], "play welcome\nqueue\n",
                 {"timezone": "UTC", "hours": {d: "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri",
                                                                           "sat", "sun")}})
    audio = {1: wav_bytes(0.5), 2: wav_bytes(0.75), 3: wav_bytes(1.0)}
    for v in (1, 2, 3):
        async with http.post("/api/v1/acd/prompts", data=form("welcome", audio[v], "later"), headers=h) as r:
            pid = (await r.json())["id"]
    url = f"/api/v1/acd/prompts/{pid}"
    async with http.post(url + "/activate", json={"version": 1}, headers=h) as r:
        assert r.status == 200  # all three came "later": none plays until one is activated
    now = datetime.datetime.now(datetime.timezone.utc)
    window = {"kind": "scheduled", "version": 2, "starts_at": (now - datetime.timedelta(minutes=5)).isoformat(),
              "ends_at": (now + datetime.timedelta(hours=1)).isoformat()}
    async with http.post(url + "/rules", json={**window, "ends_at": window["starts_at"]}, headers=h) as r:
        assert r.status == 400 and "ends_at" in (await r.json())["fields"]
    async with http.post(url + "/rules", json={"kind": "holiday", "version": 3, "starts_at": window["starts_at"]},
                         headers=h) as r:
        assert r.status == 400 and "starts_at" in (await r.json())["fields"]
    async with http.post(url + "/rules", json=window, headers=h) as r:
        assert r.status == 201
    async with http.get(url) as r:
        assert (await r.json())["now"] == {"version": 2, "reason": "scheduled"}
    async with http.get("/api/v1/acd/queues/acme/prompts/welcome/audio", params={"language": "sv"}) as r:
        assert r.headers["X-Prompt-Version"] == "2" and r.headers["X-Prompt-Reason"] == "scheduled"
        assert await r.read() == audio[2]
    later = (now + datetime.timedelta(hours=2)).isoformat()
    async with http.get("/api/v1/acd/queues/acme/prompts/welcome/audio", params={"at": later}) as r:
        assert r.headers["X-Prompt-Version"] == "1" and r.headers["X-Prompt-Reason"] == "active"

    async with http.post(url + "/rules", json={"kind": "holiday", "version": 3}, headers=h) as r:
        holiday_rule = (await r.json())["id"]
        assert r.status == 201
    async with http.post(url + "/rules", json={"kind": "holiday", "version": 1}, headers=h) as r:
        assert r.status == 409
    async with http.put("/api/v1/acd/queues/acme/calendar", headers=h,
                        json={"timezone": "UTC", "hours": {"mon": "08:00-17:00"}, "holidays": [today]}) as r:
        assert r.status == 200
    async with http.get("/api/v1/acd/queues/acme/prompts/welcome/audio") as r:
        assert r.headers["X-Prompt-Reason"] == "holiday" and await r.read() == audio[3]
    async with http.delete(f"{url}/rules/{holiday_rule}", headers=h) as r:
        assert r.status == 204
    async with http.post(url + "/rules", json={"kind": "closed", "version": 3}, headers=h) as r:
        assert r.status == 201
    async with http.get("/api/v1/acd/queues/acme/prompts/welcome/audio") as r:
        assert r.headers["X-Prompt-Reason"] == "closed", "closed all day on a holiday"


async def test_a_used_prompt_cannot_be_deleted_and_tenants_are_apart(appliance, first_boot, http) -> None:
    admin, tenant, _, h = await _tenant_session(http, first_boot)
    await _queue(appliance, tenant["id"], "menu welcome:\n    1:\n        queue\nsurvey overall thanks\nqueue\n")
    ids = {}
    for name in ("welcome", "thanks", "spare"):
        async with http.post("/api/v1/acd/prompts", data=form(name, wav_bytes()), headers=h) as r:
            ids[name] = (await r.json())["id"]
    async with http.get(f"/api/v1/acd/prompts/{ids['thanks']}") as r:
        uses = (await r.json())["uses"]
    assert uses == [{"queue": "acme", "version": 1, "line": 4, "statement": "survey"}]
    async with http.delete(f"/api/v1/acd/prompts/{ids['welcome']}", headers=h) as r:
        body = await r.json()
        assert r.status == 409 and "queue acme script v1 line 1 (menu)" in body["message"]
    async with http.delete(f"/api/v1/acd/prompts/{ids['spare']}", headers=h) as r:
        assert r.status == 204
    async with http.get(f"/api/v1/acd/prompts/{ids['spare']}") as r:
        assert r.status == 404

    _, other = await tenant_with_admin(admin, "Other")
    for method, path in (("GET", f"/acd/prompts/{ids['welcome']}"), ("DELETE", f"/acd/prompts/{ids['welcome']}"),
                         ("GET", f"/acd/prompts/{ids['welcome']}/versions/1/audio"),
                         ("GET", "/acd/queues/acme/prompts/welcome/audio")):
        status, _ = await other.call(method, path)
        assert status == 404, (method, path)
    status, _ = await other.call("POST", f"/acd/prompts/{ids['welcome']}/activate", {"version": 1})
    assert status == 404


async def test_the_catalogue_page_renders_for_leads_only(appliance, first_boot, http) -> None:
    admin, tenant, acme, _ = await _tenant_session(http, first_boot)
    async with http.get("/admin/prompts") as r:
        page = await r.text()
        assert r.status == 200 and 'id="prompt-upload"' in page and "/static/prompts.js" in page
    await acme.post("/users", {"username": "ann", "role": "agent", "password": "ann-Pass-12345"})
    http.cookie_jar.clear()
    await login(http, "ann", "ann-Pass-12345")
    async with http.get("/admin/prompts", allow_redirects=False) as r:
        assert r.status in (302, 403)
