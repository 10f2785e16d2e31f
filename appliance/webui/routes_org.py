"""Admin console pages for the domain core: list/search/page, create, edit, disable for every resource
(tenants, users, profiles, teams, skills, mailboxes, categories, SLA policies, staff, customers, tickets),
and the audit trail. The forms are generated from the same schemas the REST API validates with."""
from __future__ import annotations

import asyncio
import csv
import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.domain import identify as ident
from appliance.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.lookup import hooks
from appliance.models import Tenant
from appliance.models.access import Scope, documents, load_actor
from appliance.models.access.resource import Resource
from appliance.models.access import outage as outage_access, tickets as ticket_access
from appliance.webui.api import transfer
from appliance.webui.api.audit import list_audit
from appliance.webui.api.base import MAX_JSON_BYTES
from appliance.webui.api.crud import all_resources
from appliance.webui.field_texts import CODES, code_label, field_message
from appliance.webui.keys import DB, STORE, USER
from appliance.webui.locale import N_, gettext
from appliance.webui.security import csrf_token

routes = web.RouteTableDef()
TITLES = {"tenants": N_("Tenants"), "users": N_("Users"), "profiles": N_("Profiles"), "teams": N_("Teams"),
          "skills": N_("Skills"), "mailboxes": N_("Mailboxes"), "categories": N_("Categories"),
          "sla-policies": N_("SLA policies"), "staff": N_("Staff directory"), "customers": N_("Customers"),
          "tickets": N_("Tickets"), "wrap-up-codes": N_("Wrap-up codes")}
COLUMNS = {"tenants": ("name", "region", "timezone"), "users": ("username", "display_name", "role", "email"),
           "profiles": ("name", "parent_id", "rights"), "teams": ("name", "kind", "parent_id"),
           "skills": ("name", "kind", "code"), "mailboxes": ("name", "parent_id", "addresses"),
           "categories": ("name", "depth", "parent_id"),
           "sla-policies": ("name", "response_minutes", "resolve_minutes"),
           "staff": ("name", "department", "title", "phone"), "customers": ("name", "kind", "number", "ownership"),
           "tickets": ("subject", "channel", "state", "priority", "due_at"),
           "wrap-up-codes": ("code", "name", "queue_id", "active")}
PAGE_SIZE = 25


def _resource(request: web.Request) -> Resource:
    name = request.match_info["res"]
    res = all_resources().get(name)
    if res is None:
        raise web.HTTPNotFound(text=f"No admin page named {name}.")
    return res


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    user = request[USER]
    uid, remote = user.id, request.remote or ""
    return await request.app[DB].call(lambda: fn(Scope(load_actor(uid, remote)), *args))


async def _ctx(request: web.Request, res_name: str, **extra: Any) -> dict[str, Any]:
    return {"user": request[USER], "csrf": await csrf_token(request), "section": "org", "res": res_name,
            "title": TITLES.get(res_name, res_name), "titles": TITLES, **extra}


def refusal(exc: Exception) -> web.HTTPException:
    """The page answer to a domain refusal: 404, 403 with the reason, or 409."""
    if isinstance(exc, NotFound):
        return web.HTTPNotFound(text="Not found.")
    if isinstance(exc, Forbidden):
        return web.HTTPForbidden(text=f"You are not allowed to do this: {exc}")
    return web.HTTPConflict(text=str(exc))


@routes.get("/admin/org")
@aiohttp_jinja2.template("admin/org.html")
async def org_index(request: web.Request) -> dict[str, Any]:
    """Every area of the organisation, one link each."""
    return await _ctx(request, "org")


@routes.get(r"/admin/org/{res:[a-z-]+}")
async def list_page(request: web.Request) -> web.Response:
    """A searchable, paged table."""
    return await _list_page(request, imported=request.query.get("imported", ""))


async def _list_page(request: web.Request, status: int = 200, **extra: Any) -> web.Response:
    res = _resource(request)
    params = {"q": request.query.get("q", "")[:200], "limit": str(PAGE_SIZE),
              "cursor": request.query.get("cursor", "")}
    try:
        page = await _run(request, res.list, params)
    except ValidationError:
        page = await _run(request, res.list, {"limit": str(PAGE_SIZE)})
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    rows = [{"id": item["id"], "active": item.get("active", True),
             "cells": [code_label(c, item.get(c)) if c in CODES else _show(item.get(c)) for c in COLUMNS[res.name]]}
            for item in page.items]
    ctx = await _ctx(request, res.name, columns=COLUMNS[res.name], rows=rows, next=page.next, q=params["q"],
                     cursor=params["cursor"], transfer=res.name in transfer.KINDS, **extra)
    return aiohttp_jinja2.render_template("admin/list.html", request, ctx, status=status)


@routes.get(r"/admin/org/{res:customers|users|tickets}/export.csv")
async def export_csv(request: web.Request) -> web.Response:
    """Everything of the kind the admin may see, as the API's CSV export (G10)."""
    kind = request.match_info["res"]
    try:
        rows = await _run(request, transfer.export_rows, kind)
    except (NotFound, Forbidden) as exc:
        raise refusal(exc) from None
    return web.Response(text=transfer.to_csv(kind, rows), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})


@routes.post(r"/admin/org/{res:customers|users|tickets}/import")
async def import_csv(request: web.Request) -> web.StreamResponse:
    """A CSV file in the export's columns, all rows or none; the list again naming each bad cell."""
    kind = request.match_info["res"]
    form = await request.post()  # the CSRF check has read it already; aiohttp keeps it
    upload = form.get("file")
    errors: dict[str, str] = {}
    if not isinstance(upload, web.FileField):
        errors["file"] = gettext(N_("choose a CSV file"))
    else:
        raw = upload.file.read(MAX_JSON_BYTES + 1)
        if len(raw) > MAX_JSON_BYTES:
            errors["file"] = gettext(N_("is larger than %(mb)s MB")) % {"mb": MAX_JSON_BYTES // (1024 * 1024)}
        else:
            try:
                rows = transfer.from_csv(raw.decode("utf-8-sig"), all_resources()[kind].create_schema)
                done = await _run(request, transfer.import_rows, kind, rows)
            except UnicodeDecodeError:
                errors["file"] = gettext(N_("is not UTF-8 text"))
            except csv.Error as exc:
                errors["file"] = gettext(N_("is not CSV: %(reason)s")) % {"reason": exc}
            except ValidationError as exc:
                errors = {where: field_message(problem) for where, problem in exc.fields.items()}
            except (NotFound, Forbidden) as exc:
                raise refusal(exc) from None
    if errors:
        return await _list_page(request, status=400, import_errors=errors)
    raise web.HTTPFound(f"/admin/org/{kind}?imported={done['created']}")


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _form_value(spec: Field, value: Any) -> str:
    if value is None:
        return ""
    if spec.type in ("list", "ids"):
        return "\n".join(str(v) for v in value)
    if spec.type in ("object", "any"):
        return json.dumps(value, ensure_ascii=False)
    if spec.type == "datetime":
        return str(value).rstrip("Z")
    return str(value)


def _fields(schema: Schema, request: web.Request, values: dict[str, Any], errors: dict[str, str]) -> list[dict]:
    system_admin = request[USER].tenant_id is None
    out = []
    for spec in schema.fields:
        if spec.name == "tenant_id" and not system_admin:
            continue
        kind = ("select" if spec.choices else "checkbox" if spec.type == "bool" else
                "textarea" if spec.type in ("list", "ids", "object", "any") or spec.max_length > 500 else
                "number" if spec.type in ("int", "id") else "password" if spec.name == "password" else "text")
        out.append({"name": spec.name, "label": spec.name.replace("_id", "").replace("_", " ").capitalize(),
                    "kind": kind, "choices": [(c, code_label(spec.name, c)) for c in spec.choices or ()],
                    "required": spec.required, "help": spec.help,
                    "value": values.get(spec.name), "text": _form_value(spec, values.get(spec.name)),
                    "error": field_message(errors.get(spec.name) or next((v for k, v in errors.items()
                                                                          if k.startswith(spec.name + "[")
                                                                          or k.startswith(spec.name + ".")), "")),
                    "maxlength": spec.max_length if spec.type == "string" else None})
    return out


async def _submitted(request: web.Request, schema: Schema, partial: bool) -> dict[str, Any]:
    """The form as raw values for the schema (the last value wins: hidden 0 then checkbox 1)."""
    form = await request.post()
    data: dict[str, Any] = {}
    for spec in schema.fields:
        values = form.getall(spec.name, [])
        if not values:
            continue
        value = values[-1]
        if not isinstance(value, str):
            continue
        if spec.name == "password" and not value:
            continue
        if value == "" and spec.type != "bool" and (partial is False or spec.type not in ("string",)):
            if spec.type in ("list", "ids"):
                data[spec.name] = []
            elif spec.nullable:
                data[spec.name] = None
            continue
        data[spec.name] = value
    return data


@routes.get(r"/admin/org/{res:[a-z-]+}/new")
async def new_form(request: web.Request) -> web.Response:
    """An empty form."""
    res = _resource(request)
    ctx = await _ctx(request, res.name, fields=_fields(res.create_schema, request, {}, {}), obj=None, errors={})
    return aiohttp_jinja2.render_template("admin/form.html", request, ctx)


@routes.post(r"/admin/org/{res:[a-z-]+}/new")
async def create(request: web.Request) -> web.StreamResponse:
    """Create, or show the form again with a message next to each bad field."""
    res = _resource(request)
    data = await _submitted(request, res.create_schema, partial=False)
    try:
        item = await _run(request, lambda scope: res.create(scope, data, from_form=True))
    except ValidationError as exc:
        ctx = await _ctx(request, res.name, fields=_fields(res.create_schema, request, data, exc.fields), obj=None,
                         errors=exc.fields)
        return aiohttp_jinja2.render_template("admin/form.html", request, ctx, status=400)
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    notice = f"?created=1&otp={item['one_time_password']}" if item.get("one_time_password") else "?created=1"
    raise web.HTTPFound(f"/admin/org/{res.name}/{item['id']}{notice}")


@routes.get(r"/admin/org/{res:[a-z-]+}/{id:\d+}")
async def edit_form(request: web.Request) -> web.Response:
    """The edit form of one object."""
    return await _edit_page(request)


async def _edit_page(request: web.Request, res: Resource | None = None, status: int = 200,
                     **extra: Any) -> web.Response:
    res = res or _resource(request)
    try:
        item = await _run(request, res.get, int(request.match_info["id"]))
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    if res.name == "tenants":
        extra.setdefault("lookup_failure", hooks.LAST_FAILURE.get(item["id"]))
    if res.name == "customers":
        extra["documents"] = (await _run(request, documents.list_for_customer, item["id"],
                                         {"limit": str(PAGE_SIZE * 2)})).items
        extra.setdefault("uploaded", request.query.get("uploaded"))
    if res.name == "tickets":
        extra["outage"] = await _run(request, outage_access.outage_view, item["id"])
        extra.setdefault("outage_notice", _outage_notice(request.query))
    ctx = await _ctx(request, res.name, fields=_fields(res.update_schema, request, item, {}), obj=item, errors={},
                     created=request.query.get("created"), otp=request.query.get("otp", ""), **extra)
    return aiohttp_jinja2.render_template("admin/form.html", request, ctx, status=status)


@routes.post(r"/admin/org/customers/{id:\d+}/documents")
async def upload_document(request: web.Request) -> web.StreamResponse:
    """A file into the customer's record (D2); the page again with the reason when it is refused."""
    customer_id = int(request.match_info["id"])
    target = documents.Target(customer_id)
    try:
        await _run(request, documents.check_target, target)
    except (NotFound, Forbidden) as exc:
        raise refusal(exc) from None
    form = await request.post()  # the CSRF check has read it already; aiohttp keeps it
    upload = form.get("file")
    problem = ""
    if not isinstance(upload, web.FileField):
        problem = gettext(N_("Choose a file to upload."))
    else:
        data = upload.file.read(documents.MAX_DOCUMENT_BYTES + 1)
        if not data:
            problem = gettext(N_("The file is empty."))
        elif len(data) > documents.MAX_DOCUMENT_BYTES:
            problem = gettext(N_("The file is larger than %(mb)s MB.")) % {
                "mb": documents.MAX_DOCUMENT_BYTES // (1024 * 1024)}
    if problem:
        return await _edit_page(request, all_resources()["customers"], status=400, upload_error=problem)
    digest = await asyncio.get_running_loop().run_in_executor(None, request.app[STORE].put, data)
    await _run(request, documents.file_upload, target, digest, upload.filename, upload.content_type, len(data))
    raise web.HTTPFound(f"/admin/org/customers/{customer_id}?uploaded=1")


def _outage_notice(query: Any) -> str:
    if query.get("linked") == "1":
        return gettext(N_("Linked."))
    if query.get("linked") == "0":
        return gettext(N_("Unlinked."))
    if query.get("closed", "").isdigit():
        return gettext(N_("The outage is closed, and with it %(n)s linked ticket(s).")) % {"n": query["closed"]}
    return ""


@routes.post(r"/admin/org/tickets/{id:\d+}/link")
async def link_ticket(request: web.Request) -> web.StreamResponse:
    """Link the ticket to an outage (master) ticket by its number, or unlink it with an empty one (D13)."""
    ticket_id = int(request.match_info["id"])
    raw = str((await request.post()).get("master_id", "")).strip().lstrip("#")
    if raw and not raw.isdigit():
        return await _outage_refused(request, ValidationError({"master_id": gettext(N_("must be a ticket number"))}))
    try:
        await _run(request, ticket_access.link, ticket_id, {"master_id": int(raw) if raw else None})
    except (ValidationError, NotFound, Forbidden, Conflict) as exc:
        return await _outage_refused(request, exc)
    raise web.HTTPFound(f"/admin/org/tickets/{ticket_id}?linked={1 if raw else 0}")


@routes.post(r"/admin/org/tickets/{id:\d+}/close-outage")
async def close_outage(request: web.Request) -> web.StreamResponse:
    """Close an outage ticket and every ticket linked to it, each customer told (D13)."""
    ticket_id = int(request.match_info["id"])
    text = str((await request.post()).get("child_message", ""))
    try:
        before = await _run(request, outage_access.outage_view, ticket_id)
        await _run(request, ticket_access.apply_action, ticket_id, {"action": "done", "child_message": text})
    except (ValidationError, NotFound, Forbidden, Conflict) as exc:
        return await _outage_refused(request, exc)
    raise web.HTTPFound(f"/admin/org/tickets/{ticket_id}?closed={before['open_children']}")


async def _outage_refused(request: web.Request, exc: Exception) -> web.StreamResponse:
    """The ticket page again with the outage form's error beside it; a missing or foreign ticket is refused."""
    if not isinstance(exc, ValidationError):
        raise refusal(exc) from None
    return await _edit_page(request, all_resources()["tickets"], status=400,
                            outage_error="; ".join(map(field_message, exc.fields.values())))

@routes.post(r"/admin/org/tenants/{id:\d+}/lookup-test")
async def lookup_test(request: web.Request) -> web.Response:
    """Try the tenant's external hook (HTTP or SQL) with a phone number, address or customer number."""
    form = await request.post()
    probe = ident.Probe(**{k: str(form.get(k, ""))[:254].strip() for k in ("phone", "email", "number")})
    tenant_id = int(request.match_info["id"])

    def settings(scope: Scope) -> tuple[str, hooks.HookSettings]:
        scope.require(Perm.TENANTS_WRITE)
        tenant = scope.get(Tenant, tenant_id)
        return tenant.region, hooks.settings_of(tenant)
    try:
        region, hook = await _run(request, settings)
    except (NotFound, Forbidden) as exc:
        raise refusal(exc) from None

    async def nobody(kind: str, value: str) -> list[int]:
        return []  # ask the external system even when a local customer would match
    found = await ident.identify(probe, region, nobody, hooks.external_lookup(hook), hook.timeout_s)
    outcome = {"kind": hook.kind, "record": found.external_record, "error": found.external_error,
               "invalid": found.invalid, "probe": probe}
    return await _edit_page(request, all_resources()["tenants"], lookup_outcome=outcome)


@routes.post(r"/admin/org/{res:[a-z-]+}/{id:\d+}")
async def update(request: web.Request) -> web.StreamResponse:
    """Save changes, or show the form again with messages."""
    res = _resource(request)
    obj_id = int(request.match_info["id"])
    data = await _submitted(request, res.update_schema, partial=True)
    try:
        await _run(request, lambda scope: res.update(scope, obj_id, data, from_form=True))
    except ValidationError as exc:
        item = await _run(request, res.get, obj_id)
        ctx = await _ctx(request, res.name, fields=_fields(res.update_schema, request, {**item, **data}, exc.fields),
                         obj=item, errors=exc.fields)
        return aiohttp_jinja2.render_template("admin/form.html", request, ctx, status=400)
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    raise web.HTTPFound(f"/admin/org/{res.name}/{obj_id}?saved=1")


@routes.post(r"/admin/org/{res:[a-z-]+}/{id:\d+}/active")
async def toggle_active(request: web.Request) -> web.StreamResponse:
    """Disable or enable (nothing is deleted from the console)."""
    res = _resource(request)
    obj_id = int(request.match_info["id"])
    form = await request.post()
    active = form.get("active") == "1"
    try:
        await _run(request, lambda scope: res.update(scope, obj_id, {"active": active}))
    except ValidationError as exc:
        raise web.HTTPBadRequest(text="; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from None
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    raise web.HTTPFound(f"/admin/org/{res.name}")


@routes.get("/admin/audit")
@aiohttp_jinja2.template("admin/audit.html")
async def audit_page(request: web.Request) -> dict[str, Any]:
    """The audit trail, newest last, paged."""
    params = {"limit": str(PAGE_SIZE * 2), "cursor": request.query.get("cursor", "")}
    for key in ("object_type", "object_id"):
        if request.query.get(key):
            params[key] = request.query[key][:32]
    try:
        page = await _run(request, list_audit, params)
    except (ValidationError, NotFound, Forbidden) as exc:
        raise refusal(exc if not isinstance(exc, ValidationError) else Conflict(str(exc))) from None
    return await _ctx(request, "audit", entries=page.items, next=page.next)
