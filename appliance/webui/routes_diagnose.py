"""Self-tests in the admin console: each mail account, the relay, each fax line and GSM modem, the same tests
the serial console's diagnostics menu runs (the services' `testable` and `diagnose`).

A tenant's admin sees and tests only the tenant's own mail accounts; the relay and the hardware belong to
the site and are its admins' alone.
"""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.supervisor import ServiceState
from appliance.webui.keys import SUPERVISOR, USER
from appliance.webui.locale import N_
from appliance.webui.security import csrf_token, require_role

routes = web.RouteTableDef()
PAGE = "/admin/diagnostics"
TEMPLATE = "admin/diagnostics.html"
SERVICES = {"mail": N_("Mail accounts and relay"), "fax": N_("Fax lines"), "sms": N_("GSM modems")}
SITE_ONLY = ("fax", "sms")


def _service(request: web.Request, name: str) -> Any | None:
    rec = request.app[SUPERVISOR].records.get(name)
    if rec is None or rec.state != ServiceState.RUNNING or getattr(rec.service, "diagnose", None) is None:
        return None
    return rec.service


def _items(request: web.Request, name: str) -> list[tuple[str, str]]:
    """(item, label) a user may test in one service."""
    tenant_id = getattr(request[USER], "tenant_id", None)
    svc = _service(request, name)
    if svc is None or (tenant_id is not None and name in SITE_ONLY):
        return []
    items = svc.testable()
    if tenant_id is not None:  # a tenant's admin: its own accounts only (fetcher meta carries the tenant)
        own = {str(aid) for aid, (_, f, _) in svc.fetchers.items() if f.meta.get("tenant_id") == tenant_id}
        items = [(item, label) for item, label in items if item in own]
    return items


async def _context(request: web.Request, result: dict[str, Any] | None = None) -> dict[str, Any]:
    tenant_id = getattr(request[USER], "tenant_id", None)
    sections = []
    for name, title in SERVICES.items():
        if tenant_id is not None and name in SITE_ONLY:
            continue
        rec = request.app[SUPERVISOR].records.get(name)
        running = _service(request, name) is not None
        why = "" if running else (rec.spec.disabled_reason if rec and rec.spec.factory is None
                                  else f"the {name} service is {rec.state.value if rec else 'not there'}")
        sections.append({"name": name, "title": title, "items": _items(request, name), "why": why,
                         "whole": tenant_id is None and running})
    return {"user": request[USER], "csrf": await csrf_token(request), "section": "services",
            "sections": sections, "result": result}


@routes.get(PAGE)
@require_role("admin")
@aiohttp_jinja2.template(TEMPLATE)
async def diagnostics_page(request: web.Request) -> dict[str, Any]:
    """What can be tested now, a button each."""
    return await _context(request)


@routes.post(PAGE + r"/{service:mail|fax|sms}")
@require_role("admin")
async def run_test(request: web.Request) -> web.Response:
    """Run one test (form field `item`; none: the whole service) and show its lines."""
    name = request.match_info["service"]
    item = str((await request.post()).get("item", "")) or None
    allowed = dict(_items(request, name))
    if item is None and getattr(request[USER], "tenant_id", None) is not None:
        raise web.HTTPForbidden(text="Test your accounts one by one; the relay belongs to the site.")
    if item is not None and item not in allowed:
        raise web.HTTPNotFound(text="Nothing with this name can be tested now.")
    svc = _service(request, name)
    if svc is None:
        lines = [f"not available: the {name} service is not running"]
    else:
        lines = await svc.diagnose(item)
    label = allowed.get(item, SERVICES[name]) if item else SERVICES[name]
    result = {"service": name, "item": item, "label": label, "lines": lines,
              "failed": any(" FAILED " in line or line.startswith("not available") for line in lines)}
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response(result)
    return aiohttp_jinja2.render_template(TEMPLATE, request, await _context(request, result))
