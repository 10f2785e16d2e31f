"""Console pages for text blocks and reply templates (E3–E5): list and search, edit with the variables at hand
and a preview rendered against the sample ticket (live while typing, through /api/v1/text-blocks/preview), delete.

Agents keep their personal blocks here; team leads their teams'; admins the tenant's and every team's. The pages
call the same resources as the API (appliance.models.access.content), so both validate alike.
"""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.domain import textvars
from appliance.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.models import Mailbox, Skill
from appliance.models.access import Scope, load_actor
from appliance.models.access.content import ReplyTemplateResource, TextBlockResource, teams_for
from appliance.models.content import CHANNELS, VISIBILITIES
from appliance.webui.keys import DB, USER
from appliance.webui.locale import N_
from appliance.webui.routes_acd import STAFF
from appliance.webui.routes_org import refusal
from appliance.webui.security import csrf_token, require_role

routes = web.RouteTableDef()
PAGE_SIZE = 50
KINDS = {"text-blocks": TextBlockResource(), "reply-templates": ReplyTemplateResource()}
TITLES = {"text-blocks": N_("Text blocks"), "reply-templates": N_("Reply templates")}
TEXT_FIELDS = {"text-blocks": ("body_text", "body_html"),
               "reply-templates": ("salutation", "body_text", "body_html", "signature")}
KIND = "{kind:text-blocks|reply-templates}"
# The variables' meanings (appliance.domain.textvars.VARIABLES) as the catalogue extracts them.
MEANINGS = (N_("the customer's name"), N_("the customer number"), N_("the customer's first e-mail address"),
            N_("the customer's first phone number"), N_("the answering agent's name"),
            N_("the answering agent's e-mail address"), N_("the ticket number"), N_("the ticket's subject"),
            N_("the mailbox's name"), N_("the mailbox's e-mail address"), N_("today's date"),
            N_("the answering agent's personal signature (profile page)"),
            N_("the answering agent's signature image (profile page)"),
            N_("the salutation for the customer, formal or informal as the agent prefers"))


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    uid, remote = request[USER].id, request.remote or ""
    return await request.app[DB].call(lambda: fn(Scope(load_actor(uid, remote)), *args))


def _choices(scope: Scope) -> dict[str, Any]:
    """What the edit form's selects offer: the actor's teams, the tenant's mailboxes and skills."""
    return {"teams": [(t.id, t.name) for t in teams_for(scope)],
            "mailboxes": [(m.id, m.name) for m in scope.query(Mailbox).where(Mailbox.active == True)  # noqa: E712
                          .order_by(Mailbox.name)],
            "skills": [(s.id, s.name) for s in scope.query(Skill).where(Skill.active == True)  # noqa: E712
                       .order_by(Skill.name)],
            "may_tenant": scope.can(Perm.ORG_WRITE)}


async def _ctx(request: web.Request, kind: str, **extra: Any) -> dict[str, Any]:
    return {"user": request[USER], "csrf": await csrf_token(request), "section": "content", "kind": kind,
            "title": TITLES[kind], "visibilities": VISIBILITIES, "all_channels": CHANNELS,
            "variables": textvars.VARIABLES, "filters": textvars.FILTERS, **extra}


@routes.get("/admin/content")
@require_role(*STAFF)
async def index(request: web.Request) -> web.StreamResponse:
    """The text blocks are the page people want most."""
    raise web.HTTPFound("/admin/text-blocks")


@routes.get("/admin/" + KIND)
@require_role(*STAFF)
@aiohttp_jinja2.template("admin/content_list.html")
async def list_page(request: web.Request) -> dict[str, Any]:
    """Entries the user sees, searched by title, shortcut, folder or text."""
    kind = request.match_info["kind"]
    res = KINDS[kind]
    q = request.query.get("q", "")[:200]
    params = {"q": q, "limit": str(PAGE_SIZE), "cursor": request.query.get("cursor", "")}
    try:
        page = await _run(request, res.list, params)
    except ValidationError:
        page = await _run(request, res.list, {"limit": str(PAGE_SIZE)})
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    mailboxes = dict((await _run(request, _choices))["mailboxes"])
    return await _ctx(request, kind, items=page.items, next=page.next, q=q, cursor=params["cursor"],
                      deleted=request.query.get("deleted"), mailbox_names=mailboxes)


def _submitted(form: Any, kind: str) -> dict[str, Any]:
    """The form as the resource's input: empty selects are null, unchecked boxes false."""
    data: dict[str, Any] = {}
    schema = KINDS[kind].create_schema.by_name()
    for name, spec in schema.items():
        if name == "tenant_id":
            continue
        if spec.type == "bool":
            data[name] = form.get(name) in ("1", "on", "true")
        elif spec.type == "list":
            data[name] = [str(v) for v in form.getall(name, []) if str(v)]
        elif spec.type == "id":
            raw = str(form.get(name, "")).strip()
            data[name] = int(raw) if raw.isdigit() else None
        elif name in form:
            data[name] = str(form.get(name, ""))
    if data.get("visibility") != "team":
        data["team_id"] = None
    return data


async def _preview(request: web.Request, kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """The entry rendered against the sample ticket; a problem per field instead where a text is wrong."""
    out: dict[str, Any] = {"problems": {}}
    ctx = textvars.sample_context()
    for name in TEXT_FIELDS[kind]:
        source = item.get(name) or ""
        found = textvars.problems(source)
        if found:
            out["problems"][name] = "; ".join(found)
            continue
        out[name] = textvars.render(source, ctx, html=name == "body_html") if source.strip() else ""
    return out


async def _form_page(request: web.Request, kind: str, item: dict[str, Any], errors: dict[str, str],
                     status: int = 200, **extra: Any) -> web.Response:
    choices = await _run(request, _choices)
    ctx = await _ctx(request, kind, item=item, errors=errors, preview=await _preview(request, kind, item),
                     **choices, **extra)
    return aiohttp_jinja2.render_template("admin/content_form.html", request, ctx, status=status)


@routes.get("/admin/" + KIND + "/new")
@require_role(*STAFF)
async def new_form(request: web.Request) -> web.Response:
    """An empty form; the visibility defaults to what the user may keep."""
    kind = request.match_info["kind"]
    may_tenant = request[USER].role == "admin"
    return await _form_page(request, kind, {"id": None, "visibility": "tenant" if may_tenant else "personal",
                                            "active": True, "channels": []}, {})


@routes.get("/admin/" + KIND + r"/{id:\d+}")
@require_role(*STAFF)
async def edit_form(request: web.Request) -> web.Response:
    """One entry's form with its preview."""
    kind = request.match_info["kind"]
    try:
        item = await _run(request, KINDS[kind].get, int(request.match_info["id"]))
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    return await _form_page(request, kind, item, {}, saved=request.query.get("saved"))


@routes.post("/admin/" + KIND + r"/{target:new|\d+}")
@require_role(*STAFF)
async def save(request: web.Request) -> web.StreamResponse:
    """Create or change; the form comes back with a message beside each wrong field."""
    kind = request.match_info["kind"]
    res = KINDS[kind]
    target = request.match_info["target"]
    data = _submitted(await request.post(), kind)
    try:
        if target == "new":
            item = await _run(request, res.create, data)
        else:
            item = await _run(request, res.update, int(target), data)
    except ValidationError as exc:
        shown = {**data, "id": None if target == "new" else int(target)}
        return await _form_page(request, kind, shown, exc.fields, status=400)
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    raise web.HTTPFound(f"/admin/{kind}/{item['id']}?saved=1")


@routes.post("/admin/" + KIND + r"/{id:\d+}/delete")
@require_role(*STAFF)
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete an entry the user may change."""
    kind = request.match_info["kind"]
    try:
        await _run(request, KINDS[kind].delete, int(request.match_info["id"]))
    except (NotFound, Forbidden, Conflict) as exc:
        raise refusal(exc) from None
    raise web.HTTPFound(f"/admin/{kind}?deleted=1")
