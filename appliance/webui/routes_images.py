"""Image variables and the personal profile (E4): the tenant's pictures for `{{ image.<name> }}` on
/admin/images, each user's signature and salutation style on /profile, and /images/<sha256> serving a picture
of the viewer's own tenant from the encrypted store (the desk's editor and preview show it from there)."""
from __future__ import annotations

import asyncio
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.domain import images
from appliance.domain.errors import DomainError, ValidationError
from appliance.errors import StoreError
from appliance.models import Mailbox, Tenant
from appliance.models.access import Scope, load_actor
from appliance.models.access import images as access
from appliance.models.content import ContentImage
from appliance.webui.keys import DB, STORE, USER
from appliance.webui.routes_acd import STAFF
from appliance.webui.security import csrf_token, require_role

routes = web.RouteTableDef()
ADMINS = ("admin", "it")
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English", "sv": "Svenska", "pl": "Polski"}


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    uid, remote = request[USER].id, request.remote or ""
    return await request.app[DB].call(lambda: fn(Scope(load_actor(uid, remote)), *args))


async def _upload(request: web.Request, form: Any) -> tuple[bytes, images.CheckedImage, str]:
    """The form's `file` checked (PNG/JPEG, size) and put into the document store."""
    field = form.get("file")
    if not isinstance(field, web.FileField):
        raise ValidationError({"file": "choose a PNG or JPEG file"})
    loop = asyncio.get_running_loop()
    data = await loop.run_in_executor(None, field.file.read, images.MAX_BYTES + 1)
    checked = await loop.run_in_executor(None, images.check_upload, data)
    digest = await loop.run_in_executor(None, request.app[STORE].put, data)
    return data, checked, digest


# ---------------------------------------------------------------------------------------- the pictures
@routes.get(r"/images/{digest:[0-9a-f]{64}}")
@require_role(*STAFF, "it")
async def image(request: web.Request) -> web.Response:
    """One picture of the viewer's tenant (the system admin: any tenant's pictures); 404 for anything else."""
    digest, user = request.match_info["digest"], request[USER]

    def find() -> tuple[str, str] | None:
        if user.tenant_id is None and user.role == "admin":
            row = ContentImage.get_or_none(ContentImage.digest == digest)
            return (row.mime, row.alt) if row else access.image_of_tenant(None, digest)
        return access.image_of_tenant(user.tenant_id, digest)
    found = await request.app[DB].call(find)
    if found is None:
        raise web.HTTPNotFound(text="no such image")
    try:
        data = await asyncio.get_running_loop().run_in_executor(None, request.app[STORE].get, digest)
    except StoreError:
        raise web.HTTPNotFound(text="no such image") from None
    return web.Response(body=data, content_type=found[0],
                        headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})


async def _images_page(request: web.Request, errors: dict[str, str] | None = None, form: Any = None,
                       status: int = 200, notice: str = "") -> web.Response:
    def load(scope: Scope) -> dict[str, Any]:
        tenants = ([(t.id, t.name) for t in Tenant.select().order_by(Tenant.name)]
                   if scope.actor.system_admin else [])
        return {"items": access.list_images(scope), "tenants": tenants,
                "mailboxes": [(m.id, m.name) for m in scope.query(Mailbox).order_by(Mailbox.name)]}
    ctx = await _run(request, load)
    ctx.update(user=request[USER], csrf=await csrf_token(request), section="content", errors=errors or {},
               form=form or {}, notice=notice, max_kb=images.MAX_BYTES // 1024, max_side=images.MAX_SIDE)
    return aiohttp_jinja2.render_template("admin/images.html", request, ctx, status=status)


@routes.get("/admin/images")
@require_role(*ADMINS)
async def images_page(request: web.Request) -> web.Response:
    """The tenant's pictures with their variable names, and the upload form."""
    return await _images_page(request, notice=request.query.get("saved", ""))


@routes.post("/admin/images")
@require_role(*ADMINS)
async def add_image(request: web.Request) -> web.Response:
    """Upload a picture under a variable name, for the tenant or one mailbox."""
    form = await request.post()
    raw = {"name": str(form.get("name", "")).strip(), "alt": str(form.get("alt", "")).strip()}
    for key in ("mailbox_id", "tenant_id"):
        if form.get(key):
            raw[key] = int(str(form[key])) if str(form[key]).isdigit() else -1
    try:
        images.check_name(raw["name"])
        data, checked, digest = await _upload(request, form)
        await _run(request, access.add_image, raw, digest, checked, len(data))
    except ValidationError as exc:
        return await _images_page(request, exc.fields, raw, status=400)
    raise web.HTTPFound("/admin/images?saved=1")


@routes.post(r"/admin/images/{id:\d+}/delete")
@require_role(*ADMINS)
async def delete_image(request: web.Request) -> web.Response:
    """Remove a picture."""
    try:
        await _run(request, access.delete_image, int(request.match_info["id"]))
    except DomainError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    raise web.HTTPFound("/admin/images")


# ---------------------------------------------------------------------------------------- the profile
async def _profile_page(request: web.Request, errors: dict[str, str] | None = None, status: int = 200,
                        notice: str = "", given: dict[str, Any] | None = None) -> web.Response:
    profile = await _run(request, access.profile_of)
    if given:
        profile.update(given)
    ctx = {"user": request[USER], "csrf": await csrf_token(request), "section": "profile", "profile": profile,
           "errors": errors or {}, "notice": notice, "language_names": LANGUAGE_NAMES, "styles": images.STYLES,
           "max_kb": images.MAX_BYTES // 1024, "max_side": images.MAX_SIDE}
    return aiohttp_jinja2.render_template("profile.html", request, ctx, status=status)


@routes.get("/profile")
@require_role(*STAFF, "it")
async def profile_page(request: web.Request) -> web.Response:
    """The user's signature, signature image and salutation style per language."""
    return await _profile_page(request, notice=request.query.get("saved", ""))


@routes.post("/profile")
@require_role(*STAFF, "it")
async def save_profile(request: web.Request) -> web.Response:
    """Save the signature text and salutation styles."""
    form = await request.post()
    raw = {k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}
    try:
        await _run(request, access.save_profile, raw)
    except ValidationError as exc:
        salutations = {code: raw.get(f"salutation_{code}", "formal") for code in access.LANGUAGES}
        return await _profile_page(request, exc.fields, status=400,
                                   given={"signature": raw.get("signature", ""), "salutations": salutations})
    raise web.HTTPFound("/profile?saved=text")


@routes.post("/profile/image")
@require_role(*STAFF, "it")
async def save_signature_image(request: web.Request) -> web.Response:
    """Upload the signature image (PNG or JPEG), or remove it (`remove`)."""
    form = await request.post()
    try:
        if form.get("remove"):
            await _run(request, access.set_signature_image, "", None)
        else:
            _, checked, digest = await _upload(request, form)
            await _run(request, access.set_signature_image, digest, checked, str(form.get("alt", "")).strip())
    except ValidationError as exc:
        return await _profile_page(request, exc.fields, status=400)
    raise web.HTTPFound("/profile?saved=image")
