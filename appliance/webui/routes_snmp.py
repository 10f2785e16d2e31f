"""SNMP in the admin console (A3): the agent's state and the notification receivers: add, edit, remove,
send a test notification. Receivers belong to the site, not a tenant: appliance admins only.

Every change is committed first, then announced on the bus (SNMP_RECEIVERS_CHANGED); the SNMP service
reloads its receivers from the database without a restart.
"""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.bus import Event, EventKind
from appliance.datadir import DataDir
from appliance.models.snmp import TrapReceiver
from appliance.security.secrets import SecretBox
from appliance.snmp import receivers
from appliance.snmp.errors import SnmpError
from appliance.webui.keys import BUS, CONFIG, DB, SUPERVISOR, USER
from appliance.webui.locale import N_
from appliance.webui.security import csrf_token, require_role

routes = web.RouteTableDef()
PAGE = "/admin/snmp"
TEMPLATE = "admin/snmp.html"
NOTICES = {"added": N_("Receiver added."), "saved": N_("Receiver saved."), "deleted": N_("Receiver removed.")}
FORM_KEYS = ("name", "host", "port", "version", "community", "v3_user", "auth", "priv", "enabled")


def _site_admin(request: web.Request) -> None:
    # A tenant's admin runs a company on the box, not the box: monitoring is the site's.
    if getattr(request[USER], "tenant_id", None) is not None:
        raise web.HTTPForbidden(text="SNMP receivers belong to the appliance, not to a tenant.")


def _box(request: web.Request) -> SecretBox:
    data = DataDir(request.app[CONFIG].data_dir)
    return SecretBox(data.read_key(data.store_key))


def _agent_info(request: web.Request) -> dict[str, Any]:
    """What the page shows of the running agent (no keys)."""
    svc = request.app[SUPERVISOR].service("snmp")
    agent = getattr(svc, "agent", None)
    if agent is None:
        return {"running": False, "receiver_errors": {}}
    return {"running": True, "port": svc.port, "user": agent.settings.v3.user, "engine_id": agent.settings.v3.engine_id,
            "community": bool(agent.settings.community), "trap_type": agent.settings.trap_type,
            "sent": agent.notifications_sent, "errors": agent.notification_errors,
            "receiver_errors": svc.receiver_errors, "config_receivers": [
                {"name": n, "address": f"{c.target.host}:{c.target.port}", "version": c.target.version}
                for n, c in agent.targets.items() if n.startswith("config-")]}


async def _context(request: web.Request, **extra: Any) -> dict[str, Any]:
    box = _box(request)
    rows = await request.app[DB].call(lambda: [receivers.describe(r, box) for r in receivers.all_rows()])
    agent = _agent_info(request)
    for row in rows:
        row["status"] = agent["receiver_errors"].get(f"receiver-{row['id']}", "")
    context = {"user": request[USER], "csrf": await csrf_token(request), "section": "services", "agent": agent,
               "receivers": rows, "errors": {}, "form": {"version": "v3", "port": "162", "enabled": "on"},
               "editing": None, "notice": NOTICES.get(request.query.get("notice", ""), ""), "test": None}
    context.update(extra)
    return context


def _form_values(form: Any) -> dict[str, Any]:
    return {k: form.get(k, "") for k in FORM_KEYS}


def _changed(request: web.Request, receiver_id: int) -> None:
    request.app[BUS].publish(Event(EventKind.SNMP_RECEIVERS_CHANGED, {"id": receiver_id}))


@routes.get(PAGE)
@require_role("admin")
@aiohttp_jinja2.template(TEMPLATE)
async def snmp_page(request: web.Request) -> dict[str, Any]:
    """The agent and the receivers, with the add form."""
    _site_admin(request)
    return await _context(request)


@routes.get(PAGE + r"/receivers/{id:\d+}")
@require_role("admin")
@aiohttp_jinja2.template(TEMPLATE)
async def edit_page(request: web.Request) -> dict[str, Any]:
    """The page with one receiver's form filled in (secrets blank: empty keeps them)."""
    _site_admin(request)
    row = await request.app[DB].call(TrapReceiver.get_or_none, TrapReceiver.id == int(request.match_info["id"]))
    if row is None:
        raise web.HTTPNotFound(text="No such receiver.")
    form = {"name": row.name, "host": row.host, "port": str(row.port), "version": row.version,
            "v3_user": row.v3_user, "enabled": "on" if row.enabled else ""}
    return await _context(request, form=form, editing=row.id)


async def _save(request: web.Request, receiver_id: int | None) -> web.StreamResponse:
    _site_admin(request)
    values_in = _form_values(await request.post())
    box = _box(request)

    def work() -> tuple[int | None, dict[str, str]]:
        existing = TrapReceiver.get_or_none(TrapReceiver.id == receiver_id) if receiver_id is not None else None
        if receiver_id is not None and existing is None:
            raise web.HTTPNotFound(text="No such receiver.")
        values, errors = receivers.validate(values_in, existing)
        if "name" not in errors and receivers.name_taken(values["name"], receiver_id):
            errors["name"] = N_("another receiver has this name")
        if errors:
            return None, errors
        return receivers.save(box, values, receiver_id).id, {}
    saved_id, errors = await request.app[DB].call(work)
    if errors:
        shown = {k: v for k, v in values_in.items() if k not in ("community", "auth", "priv")}
        context = await _context(request, errors=errors, form=shown, editing=receiver_id)
        return aiohttp_jinja2.render_template(TEMPLATE, request, context, status=400)
    _changed(request, saved_id)
    raise web.HTTPFound(f"{PAGE}?notice={'saved' if receiver_id else 'added'}")


@routes.post(PAGE + "/receivers")
@require_role("admin")
async def add_receiver(request: web.Request) -> web.StreamResponse:
    """Add a receiver; 400 with a message next to each bad field."""
    return await _save(request, None)


@routes.post(PAGE + r"/receivers/{id:\d+}")
@require_role("admin")
async def update_receiver(request: web.Request) -> web.StreamResponse:
    """Change a receiver; empty secret fields keep the stored ones."""
    return await _save(request, int(request.match_info["id"]))


@routes.post(PAGE + r"/receivers/{id:\d+}/delete")
@require_role("admin")
async def delete_receiver(request: web.Request) -> web.StreamResponse:
    """Remove a receiver: it gets no more notifications."""
    _site_admin(request)
    receiver_id = int(request.match_info["id"])
    if not await request.app[DB].call(lambda: TrapReceiver.delete_by_id(receiver_id)):
        raise web.HTTPNotFound(text="No such receiver.")
    _changed(request, receiver_id)
    raise web.HTTPFound(f"{PAGE}?notice=deleted")


@routes.post(PAGE + r"/receivers/{id:\d+}/test")
@require_role("admin")
async def test_receiver(request: web.Request) -> web.Response:
    """Send receiverTest to one receiver now; the page says whether it went out."""
    _site_admin(request)
    receiver_id = int(request.match_info["id"])
    if not await request.app[DB].call(lambda: TrapReceiver.select().where(TrapReceiver.id == receiver_id).exists()):
        raise web.HTTPNotFound(text="No such receiver.")
    svc = request.app[SUPERVISOR].service("snmp")
    try:
        if svc is None or getattr(svc, "agent", None) is None:
            raise SnmpError("the SNMP service is not running; see Services")
        result = {"ok": True, "id": receiver_id, "text": await svc.send_test(receiver_id)}
    except SnmpError as exc:
        result = {"ok": False, "id": receiver_id, "text": str(exc)}
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response(result, status=200 if result["ok"] else 409)
    context = await _context(request, test=result)
    return aiohttp_jinja2.render_template(TEMPLATE, request, context, status=200 if result["ok"] else 409)
