"""Admin console: ACD queues, their scripts (editor with validation errors next to their line, B8) and agents'
phone profiles (extension, queues answered). Changes reach the running ACD at once (`PbxBridgeService.refresh`).

Script saving goes through the ACD API (`POST /api/v1/acd/queues/{key}/script`); this module renders the pages
and handles the two plain forms (a new queue, a phone profile), each with its messages next to the field.
"""
from __future__ import annotations

import json
import re
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.domain.acd import Strategy
from appliance.webui.keys import DB, SUPERVISOR, USER
from appliance.webui.routes_acd import LEADS
from appliance.webui.security import csrf_token, require_role

routes = web.RouteTableDef()
MANAGERS = ("admin", "supervisor")
KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
EXTENSION_RE = re.compile(r"[0-9]{1,6}")  # B20: one to six digits
NUMBER_RE = re.compile(r"\+?[0-9]{2,20}")


def _tenant_of(user: Any) -> int | None:
    return getattr(user, "tenant_id", None)


def queue_rows(tenant_id: int | None) -> list[dict[str, Any]]:
    """Queues of the tenant (all for the system admin) with their active script version (sync)."""
    from appliance.models.acd import AcdQueue, QueueScriptVersion
    query = AcdQueue.select().order_by(AcdQueue.key)
    if tenant_id is not None:
        query = query.where(AcdQueue.tenant == tenant_id)
    rows = []
    for q in query:
        active = (QueueScriptVersion.select(QueueScriptVersion.version)
                  .where((QueueScriptVersion.queue == q) & (QueueScriptVersion.active == True))  # noqa: E712
                  .first())
        rows.append({"key": q.key, "name": q.name, "tenant_id": q.tenant_id, "strategy": q.strategy,
                     "dialled_numbers": q.dialled_numbers, "sl_target_s": q.sl_target_s, "wrap_up_s": q.wrap_up_s,
                     "active": q.active, "script_version": active.version if active else None,
                     "wrap_up_required": q.wrap_up_required})
    return rows


def phone_rows(tenant_id: int | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Agents' phone profiles, and the tenant's people who could get one (sync)."""
    from appliance.models import User
    from appliance.models.acd import AgentPhone
    phones = AgentPhone.select(AgentPhone, User).join(User).order_by(AgentPhone.extension)
    people = User.select().where(User.active == True, User.tenant.is_null(False)).order_by(User.username)  # noqa
    if tenant_id is not None:
        phones = phones.where(AgentPhone.tenant == tenant_id)
        people = people.where(User.tenant == tenant_id)
    return ([{"user_id": p.user_id, "username": p.user.username, "name": p.user.display_name or p.user.username,
              "extension": p.extension, "queues": p.queues, "wrap_up_s": p.wrap_up_s} for p in phones],
            [{"id": u.id, "username": u.username, "name": u.display_name or u.username, "role": u.role,
              "tenant_id": u.tenant_id} for u in people])


def tenants() -> list[dict[str, Any]]:
    """Every tenant (the system admin picks one for a new queue)."""
    from appliance.models import Tenant
    return [{"id": t.id, "name": t.name} for t in Tenant.select().order_by(Tenant.name)]


async def _refresh(request: web.Request) -> bool:
    service = request.app[SUPERVISOR].service("pbx_bridge")
    if getattr(service, "bridge", None) is None:
        return False
    await service.refresh()
    return True


async def _page(request: web.Request, errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                notice: str = "", status: int = 200) -> web.Response:
    user = request[USER]
    tenant = _tenant_of(user)
    db = request.app[DB]
    queues = await db.call(queue_rows, tenant)
    phones, people = await db.call(phone_rows, tenant)
    service = request.app[SUPERVISOR].service("pbx_bridge")
    bridge = getattr(service, "bridge", None)
    known = {q["key"] for q in queues}
    demo = [{"key": q.id, "name": q.name} for q in bridge.engine.queues() if q.id not in known] \
        if bridge is not None and tenant is None else []
    ctx = {"user": user, "csrf": await csrf_token(request), "section": "queues", "queues": queues, "demo": demo,
           "phones": phones, "people": people, "errors": errors or {}, "form": form or {}, "notice": notice,
           "tenants": await db.call(tenants) if tenant is None else [], "strategies": [s.value for s in Strategy],
           "manager": user.role in MANAGERS}
    return aiohttp_jinja2.render_template("admin/queues.html", request, ctx, status=status)


@routes.get("/admin/queues")
@require_role(*LEADS)
async def queues_page(request: web.Request) -> web.Response:
    """Queues with their scripts, and agents' phone profiles."""
    notice = {"queue": "Queue saved; the ACD uses it now.",
              "phone": "Phone profile saved; the agent can log in to the ACD now."}.get(request.query.get("saved", ""),
                                                                                       "")
    return await _page(request, notice=notice)


def validate_queue(form: dict[str, str], existing: set[str], tenant_ids: set[int] | None) -> dict[str, str]:
    """Field -> message for a new queue's form (empty when valid)."""
    errors = {}
    if not KEY_RE.fullmatch(form.get("key", "")):
        errors["key"] = "Use 1–64 lower-case letters, digits, - or _, starting with a letter or digit."
    elif form["key"] in existing:
        errors["key"] = "A queue with this key exists."
    if not form.get("name", "").strip():
        errors["name"] = "Give the queue a name."
    for number in filter(None, (n.strip() for n in form.get("dialled_numbers", "").split(","))):
        if not NUMBER_RE.fullmatch(number):
            errors["dialled_numbers"] = f"{number} is not a phone number (digits, optionally a leading +)."
            break
    for name, low, high in (("sl_target_s", 1, 3600), ("wrap_up_s", 0, 3600)):
        try:
            if not low <= float(form.get(name) or 0) <= high:
                raise ValueError
        except ValueError:
            errors[name] = f"A number of seconds from {low} to {high}."
    if form.get("strategy", "longest_idle") not in {s.value for s in Strategy}:
        errors["strategy"] = "Pick one of the listed strategies."
    if tenant_ids is not None:
        try:
            if int(form.get("tenant_id", "")) not in tenant_ids:
                raise ValueError
        except ValueError:
            errors["tenant_id"] = "Pick the tenant the queue belongs to."
    return errors


@routes.post("/admin/queues")
@require_role(*MANAGERS)
async def create_queue(request: web.Request) -> web.StreamResponse:
    """A new queue; it takes calls as soon as it is saved."""
    from appliance.models.acd import AcdQueue
    form = {k: str(v) for k, v in (await request.post()).items() if k != "csrf_token"}
    user = request[USER]
    db = request.app[DB]
    existing = {q["key"] for q in await db.call(queue_rows, None)}
    bridge = getattr(request.app[SUPERVISOR].service("pbx_bridge"), "bridge", None)
    if bridge is not None:
        existing |= {q.id for q in bridge.engine.queues()}  # a demo queue's key is taken too
    tenant = _tenant_of(user)
    errors = validate_queue(form, existing, {t["id"] for t in await db.call(tenants)} if tenant is None else None)
    if errors:
        return await _page(request, errors, form, status=400)
    await db.call(lambda: AcdQueue.create(
        tenant=tenant if tenant is not None else int(form["tenant_id"]), key=form["key"], name=form["name"].strip(),
        strategy=form.get("strategy", "longest_idle"), dialled_numbers=form.get("dialled_numbers", "").strip(),
        sl_target_s=float(form.get("sl_target_s") or 20), wrap_up_s=float(form.get("wrap_up_s") or 10),
        wrap_up_required=form.get("wrap_up_required") == "on"))
    await _refresh(request)
    raise web.HTTPFound("/admin/queues?saved=queue")


@routes.post("/admin/queues/{key}/wrap-up-required")
@require_role(*MANAGERS)
async def wrap_up_required(request: web.Request) -> web.StreamResponse:
    """Switch whether agents must give wrap-up codes after this queue's calls; applies to calls answered next."""
    from appliance.models.acd import AcdQueue
    form = await request.post()
    key, tenant = request.match_info["key"], _tenant_of(request[USER])
    required = form.get("required") == "on"

    def switch() -> int:
        query = AcdQueue.update(wrap_up_required=required).where(AcdQueue.key == key)
        return (query.where(AcdQueue.tenant == tenant) if tenant is not None else query).execute()

    if await request.app[DB].call(switch) == 0:
        raise web.HTTPNotFound(text=f"No queue {key}.")
    await _refresh(request)
    raise web.HTTPFound("/admin/queues?saved=queue")


def save_phone(tenant_id: int | None, form: dict[str, str], queue_keys: set[str]) -> dict[str, str]:
    """Create or change a person's phone profile; field -> message when refused (sync)."""
    from appliance.models import User
    from appliance.models.acd import AgentPhone
    errors: dict[str, str] = {}
    try:
        person = User.get_by_id(int(form.get("user_id", "")))
        if person.tenant_id is None or (tenant_id is not None and person.tenant_id != tenant_id):
            raise ValueError
    except (ValueError, User.DoesNotExist):
        return {"user_id": "Pick a person of your organisation."}
    extension = form.get("extension", "").strip()
    if not EXTENSION_RE.fullmatch(extension):
        errors["extension"] = "One to six digits."
    else:
        taken = AgentPhone.get_or_none((AgentPhone.extension == extension) & (AgentPhone.user != person.id))
        if taken is not None:
            errors["extension"] = f"Extension {extension} belongs to someone else."
    wanted = [k.strip() for k in form.get("queues", "").split(",") if k.strip()]
    unknown = [k for k in wanted if k not in queue_keys]
    if unknown:
        errors["queues"] = f"No such queue: {', '.join(unknown)}."
    if errors:
        return errors
    values = {"extension": extension, "queues": ",".join(wanted), "tenant": person.tenant_id}
    if AgentPhone.update(**values).where(AgentPhone.user == person.id).execute() == 0:
        AgentPhone.create(user=person.id, **values)
    return {}


@routes.post("/admin/queues/phones")
@require_role(*MANAGERS)
async def phone_profile(request: web.Request) -> web.StreamResponse:
    """Give a person an extension and the queues they answer; they join the running ACD at once."""
    form = {k: str(v) for k, v in (await request.post()).items() if k != "csrf_token"}
    db = request.app[DB]
    tenant = _tenant_of(request[USER])
    keys = {q["key"] for q in await db.call(queue_rows, tenant)}
    errors = await db.call(save_phone, tenant, form, keys)
    if errors:
        return await _page(request, {f"phone_{k}": v for k, v in errors.items()}, form, status=400)
    await _refresh(request)
    raise web.HTTPFound("/admin/queues?saved=phone")


def script_versions(key: str, tenant_id: int | None) -> dict[str, Any] | None:
    """A queue and its script versions, newest first; None when not visible (sync)."""
    from appliance.models.acd import AcdQueue, QueueScriptVersion
    queue = AcdQueue.get_or_none(AcdQueue.key == key)
    if queue is None or (tenant_id is not None and queue.tenant_id != tenant_id):
        return None
    versions = [{"version": v.version, "active": v.active, "text": v.text,
                 "created_at": v.created_at.strftime("%Y-%m-%d %H:%M")}
                for v in QueueScriptVersion.select().where(QueueScriptVersion.queue == queue)
                .order_by(QueueScriptVersion.version.desc()).limit(50)]
    return {"key": queue.key, "name": queue.name, "versions": versions}


@routes.get("/admin/queues/{key}/script")
@require_role(*LEADS)
async def script_editor(request: web.Request) -> web.Response:
    """The script editor: line numbers, validation errors next to their line, versions, activate."""
    user = request[USER]
    data = await request.app[DB].call(script_versions, request.match_info["key"], _tenant_of(user))
    if data is None:
        raise web.HTTPNotFound(text="No such queue.")
    active = next((v for v in data["versions"] if v["active"]), None)
    text = (active or (data["versions"][0] if data["versions"] else {"text": ""}))["text"]
    return aiohttp_jinja2.render_template("admin/queues_script.html", request, {
        "user": user, "csrf": await csrf_token(request), "section": "queues", "queue": data, "text": text,
        "active": active, "versions_json": json.dumps(data["versions"])})


@routes.post("/admin/queues/{key}/script/check")
@require_role(*LEADS)
async def check_script(request: web.Request) -> web.Response:
    """Validate a script without saving it: every problem with its line."""
    from appliance.domain.queue_script import ScriptError, parse
    try:
        body = await request.json()
    except ValueError:
        body = None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or len(text) > 100_000:
        return web.json_response({"error": "invalid", "message": "text must be the script"}, status=400)
    try:
        parse(text)
    except ScriptError as exc:
        return web.json_response({"ok": False, "problems": [{"line": p.line, "message": p.message}
                                                            for p in exc.problems]})
    return web.json_response({"ok": True, "problems": []})
