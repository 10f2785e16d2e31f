"""Hot prompts (outage notices, B8/B10) switched on keep playing after the appliance restarts on the same data,
a tenant's lead switches them for that tenant's queues only, and for the callers of one language or all."""
from __future__ import annotations

import ssl

import aiohttp

from tests.appliance.api.client import admin_client, tenant_with_admin
from tests.appliance.webui.helpers import csrf_from, login, login_admin


async def _start(first_boot, app_env):
    from appliance import config
    from appliance.runtime import Appliance
    app = Appliance(config.load(first_boot.root, app_env))
    await app.start()
    return app


def _session(app) -> aiohttp.ClientSession:
    ssl_ctx = ssl.create_default_context(cafile=str(app.data.cert))
    return aiohttp.ClientSession(base_url=f"https://localhost:{app.web_port}",
                                 connector=aiohttp.TCPConnector(ssl=ssl_ctx), cookie_jar=aiohttp.CookieJar())


def _bridge(app):
    return app.supervisor.service("pbx_bridge").bridge


async def test_hot_prompts_switched_on_survive_a_restart(first_boot, app_env) -> None:
    app = await _start(first_boot, app_env)
    try:
        async with _session(app) as http:
            await login_admin(http, first_boot.admin_password)
            h = {"X-CSRF-Token": await csrf_from(http, "/admin")}
            for name in ("outage_notice", "storm_warning"):
                async with http.post("/api/v1/acd/prompts/hot", json={"name": name, "on": True}, headers=h) as r:
                    assert r.status == 200
            async with http.post("/api/v1/acd/prompts/hot", json={"name": "storm_warning", "on": False},
                                 headers=h) as r:
                assert (await r.json())["hot_on"] == ["outage_notice"]
            async with http.post("/api/v1/acd/prompts/hot", json={"name": "x" * 65, "on": True}, headers=h) as r:
                assert r.status == 400 and (await r.json())["field"] == "name"
        assert _bridge(app).hot_prompts == {(None, "outage_notice", "")}
    finally:
        await app.stop()

    app = await _start(first_boot, app_env)
    try:
        assert _bridge(app).hot_prompts == {(None, "outage_notice", "")}, "the restart keeps what callers hear"
        async with _session(app) as http:
            await login(http, "admin", "Correct-Horse-42")  # changed at the first login above
            async with http.get("/api/v1/acd/prompts") as r:
                assert (await r.json())["hot_on"] == ["outage_notice"]
            h = {"X-CSRF-Token": await csrf_from(http, "/admin")}
            async with http.post("/api/v1/acd/prompts/hot", json={"name": "outage_notice", "on": False},
                                 headers=h) as r:
                assert (await r.json())["hot_on"] == []
    finally:
        await app.stop()

    app = await _start(first_boot, app_env)
    try:
        assert _bridge(app).hot_prompts == set(), "switched off stays off"
    finally:
        await app.stop()


async def test_a_tenant_switches_hot_prompts_for_its_own_queues(first_boot, app_env) -> None:
    app = await _start(first_boot, app_env)
    try:
        async with _session(app) as http:
            admin = await admin_client(http, first_boot.admin_password)
            acme, acme_admin = await tenant_with_admin(admin, "Acme")
            other, other_admin = await tenant_with_admin(admin, "Other")

            def queues():
                from appliance.models.acd import AcdQueue
                AcdQueue.create(tenant=acme["id"], key="acme", name="Acme")
                AcdQueue.create(tenant=other["id"], key="other", name="Other")
            await app.db.call(queues)
            status, body = await acme_admin.call("POST", "/acd/prompts/hot", {"name": "outage_notice", "on": True})
            assert status == 200 and body["hot_on"] == ["outage_notice"]
            status, body = await other_admin.call("GET", "/acd/prompts")
            assert body["hot_on"] == [], "another tenant neither sees nor hears it"
            status, body = await other_admin.call("POST", "/acd/prompts/hot", {"name": "outage_notice", "on": False})
            assert body["hot_on"] == []
    finally:
        await app.stop()

    app = await _start(first_boot, app_env)
    try:
        bridge = _bridge(app)
        assert bridge.hot_prompts == {(acme["id"], "outage_notice", "")}, "switching off elsewhere left Acme's on"
        assert bridge.hot_on("acme", "outage_notice") and not bridge.hot_on("other", "outage_notice")
    finally:
        await app.stop()


async def test_a_hot_prompt_per_language_is_kept_per_tenant(first_boot, app_env) -> None:
    app = await _start(first_boot, app_env)
    try:
        async with _session(app) as http:
            admin = await admin_client(http, first_boot.admin_password)
            acme, acme_admin = await tenant_with_admin(admin, "Acme")
            other, other_admin = await tenant_with_admin(admin, "Other")

            def queues():
                from appliance.models.acd import AcdQueue
                AcdQueue.create(tenant=acme["id"], key="acme", name="Acme")
                AcdQueue.create(tenant=other["id"], key="other", name="Other")
            await app.db.call(queues)
            for language in ("de", "sv", ""):
                status, body = await acme_admin.call("POST", "/acd/prompts/hot",
                                                     {"name": "outage_notice", "on": True, "language": language})
                assert status == 200
            status, body = await acme_admin.call("POST", "/acd/prompts/hot",
                                                 {"name": "outage_notice", "on": False, "language": "sv"})
            assert body["hot"] == [{"name": "outage_notice", "language": ""},
                                   {"name": "outage_notice", "language": "de"}]
            assert body["hot_on"] == ["outage_notice"]
            status, body = await acme_admin.call("POST", "/acd/prompts/hot",
                                                 {"name": "outage_notice", "on": True, "language": "Deutsch"})
            assert status == 400 and body["field"] == "language"
            status, body = await other_admin.call("GET", "/acd/prompts")
            assert body["hot"] == [] and body["hot_on"] == []
            status, body = await other_admin.call("POST", "/acd/prompts/hot",
                                                  {"name": "storm_warning", "on": True, "language": "en"})
            assert body["hot"] == [{"name": "storm_warning", "language": "en"}]
    finally:
        await app.stop()

    app = await _start(first_boot, app_env)
    try:
        bridge = _bridge(app)
        assert bridge.hot_prompts == {(acme["id"], "outage_notice", ""), (acme["id"], "outage_notice", "de"),
                                      (other["id"], "storm_warning", "en")}, "kept across the restart"
        assert bridge.hot_language("acme", "outage_notice", "de") == "de"
        assert bridge.hot_language("acme", "outage_notice", "fr") == "", "no French one: the one for every caller"
        assert bridge.hot_language("other", "storm_warning", "en") == "en"
        assert bridge.hot_language("other", "storm_warning", "de") is None, "only for English callers"
        assert bridge.hot_language("other", "outage_notice", "de") is None, "Acme's stay Acme's"
    finally:
        await app.stop()
