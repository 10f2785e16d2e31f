"""The admin console's service page and health endpoints."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from appliance.webui.keys import DB, METRICS, SUPERVISOR, USER
from appliance.webui.security import csrf_token, require_role

routes = web.RouteTableDef()
# Where each service's own page is, linked from its row on the services page.
SERVICE_PAGES = {"pbx_bridge": "/admin/queues", "fax": "/admin/fax", "mail": "/admin/mail", "sms": "/admin/sms",
                 "scheduler": "/admin/backups", "webui": "/wallboard", "snmp": "/admin/snmp"}


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Public liveness: states and restart counts only, nothing sensitive."""
    sup = request.app[SUPERVISOR]
    services = {s["name"]: {"state": s["state"], "restarts": s["restarts"]} for s in sup.snapshot()}
    return web.json_response({"status": "degraded" if sup.degraded else "ok", "services": services})


@routes.get("/metrics")
@require_role("admin")
async def metrics(request: web.Request) -> web.Response:
    """Every metric in the Prometheus text format."""
    return web.Response(text=request.app[METRICS].prometheus_text(), content_type="text/plain")


@routes.get("/admin")
@require_role("admin")
@aiohttp_jinja2.template("admin/services.html")
async def admin_home(request: web.Request) -> dict:
    """Services with state, restarts, uptime, last error; restart buttons."""
    sup = request.app[SUPERVISOR]
    return {"user": request[USER], "csrf": await csrf_token(request), "services": sup.snapshot(),
            "degraded": sup.degraded, "metrics": request.app[METRICS].read(), "section": "services",
            "service_pages": SERVICE_PAGES}


@routes.get("/admin/services.json")
@require_role("admin")
async def services_json(request: web.Request) -> web.Response:
    """The same data for the page's live refresh."""
    sup = request.app[SUPERVISOR]
    return web.json_response({"degraded": sup.degraded, "services": sup.snapshot(),
                              "metrics": {k: v for k, v in request.app[METRICS].read().items()
                                          if k.startswith("appliance.")}})


@routes.post("/admin/services/{name}/restart")
@require_role("admin")
async def restart_service(request: web.Request) -> web.StreamResponse:
    """Restart one service (also brings a failed one back)."""
    name = request.match_info["name"]
    sup = request.app[SUPERVISOR]
    if name not in sup.records:
        raise web.HTTPNotFound(text=f"No service named {name}.")
    if sup.records[name].spec.factory is None:
        raise web.HTTPConflict(text=f"{name} is disabled: {sup.records[name].spec.disabled_reason}")
    if name == "webui":
        raise web.HTTPConflict(text="The web UI cannot restart itself from a page it serves; "
                                    "use the serial console.")
    await sup.restart(name)
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response({"ok": True, "service": name})
    raise web.HTTPFound("/admin")


@routes.post("/admin/demo-setup")
@require_role("admin")
async def demo_setup(request: web.Request) -> web.Response:
    """The demo organisation for the emulated lines; the agent's one-time password is shown once."""
    from appliance.demo import DEMO_AGENT, set_up_demo
    result = await request.app[DB].call(set_up_demo)
    pbx = request.app[SUPERVISOR].service("pbx_bridge")
    if pbx is not None and hasattr(pbx, "refresh"):
        await pbx.refresh()  # the demo agent can log in to the running ACD at once
    return web.json_response({"tenant_id": result.tenant_id, "addresses": result.addresses,
                              "agent": DEMO_AGENT, "agent_password": result.agent_password, "extension": "2001"})
