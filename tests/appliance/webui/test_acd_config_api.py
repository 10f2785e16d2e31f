"""Prompts (B10), calendars (B9), hot prompts and web callbacks (C13) over HTTP."""
from __future__ import annotations

import asyncio
import io
import wave

import aiohttp

from tests.appliance.webui.helpers import csrf_from, login_admin


def wav_bytes(seconds: float = 0.5) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * int(8000 * seconds))
    return out.getvalue()


async def setup_admin(http, first_boot) -> dict:
    await login_admin(http, first_boot.admin_password)
    return {"X-CSRF-Token": await csrf_from(http, "/admin")}


def upload(name: str, data: bytes, language: str = "sv") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("name", name)
    form.add_field("language", language)
    form.add_field("file", data, filename="x.wav", content_type="application/octet-stream")
    return form


async def test_prompt_catalogue_upload_preview_and_hot_switch(appliance, first_boot, http) -> None:
    h = await setup_admin(http, first_boot)
    async with http.post("/api/v1/acd/prompts", data=upload("welcome", wav_bytes()), headers=h) as r:
        body = await r.json()
    assert r.status == 201 and body["content_type"] == "audio/wav" and body["duration_s"] == 0.5
    async with http.post("/api/v1/acd/prompts", data=upload("bad", b"MZ\x90\x00 an exe"), headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "file"
    async with http.post("/api/v1/acd/prompts", data=upload("Bad Name!", wav_bytes()), headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "name"
    async with http.get(f"/api/v1/acd/prompts/{body['id']}/audio") as r:
        assert r.headers["Content-Type"] == "audio/wav" and (await r.read()) == wav_bytes()
    async with http.post("/api/v1/acd/prompts/hot", json={"name": "outage_notice", "on": True}, headers=h) as r:
        assert (await r.json())["hot_on"] == ["outage_notice"]
    async with http.get("/api/v1/acd/prompts") as r:
        listing = await r.json()
    assert [p["name"] for p in listing["items"]] == ["welcome"] and listing["hot_on"] == ["outage_notice"]


async def test_calendar_is_validated_and_closes_the_queue_live(appliance, first_boot, http) -> None:
    from appliance.models import Tenant
    from appliance.models.acd import AcdQueue
    await appliance.db.call(lambda: AcdQueue.create(tenant=Tenant.create(name="Acme"), key="support",
                                                    name="Support"))
    h = await setup_admin(http, first_boot)
    async with http.put("/api/v1/acd/queues/support/calendar", json={"hours": {"mon": "25:00-26:00"}},
                        headers=h) as r:
        assert r.status == 400 and "calendar" in (await r.json())["message"]
    closed_all_week = {"timezone": "Europe/Stockholm", "hours": {d: "" for d in
                                                                  ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    async with http.put("/api/v1/acd/queues/support/calendar", json=closed_all_week, headers=h) as r:
        assert r.status == 200
    async with http.get("/api/v1/acd/queues/support/calendar") as r:
        assert (await r.json())["timezone"] == "Europe/Stockholm"
    bridge = appliance.supervisor.service("pbx_bridge").bridge
    assert bridge.engine.queue("support").calendar.is_open(1_700_000_000) is False


async def test_web_callback_is_queued_and_answered_by_a_simulated_agent(appliance, first_boot, http) -> None:
    h = await setup_admin(http, first_boot)
    async with http.post("/api/v1/acd/callbacks", json={"queue": "support", "number": "not a number"},
                         headers=h) as r:
        assert r.status == 400 and (await r.json())["field"] == "number"
    service = appliance.supervisor.service("pbx_bridge")
    service.bridge.adapter.answer_delay_s = (0.0, 0.01)
    service.bridge.adapter.time_scale = 0.001
    async with http.post("/api/v1/acd/callbacks", json={"queue": "support", "number": "+46 8 449 01 50"},
                         headers=h) as r:
        body = await r.json()
    assert r.status == 201 and body["number"] == "+4684490150"
    for _ in range(200):
        async with http.get("/api/v1/calls") as r:
            items = (await r.json())["items"]
        if any(i["call_id"] == body["call_id"] for i in items):
            break
        await asyncio.sleep(0.05)
    record = next(i for i in items if i["call_id"] == body["call_id"])
    assert record["direction"] == "callback" and record["outcome"] == "answered"
