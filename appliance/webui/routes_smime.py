"""S/MIME keys and certificates in the API and the admin console (C4): a mailbox's key and certificate from
a PKCS #12 file or PEM files, partner certificates uploaded or learned from signed mail; keys sealed at rest."""
from __future__ import annotations

import base64
import binascii
from typing import Any, Callable

import aiohttp_jinja2
from aiohttp import web

from appliance.datadir import DataDir
from appliance.domain.errors import DomainError, Forbidden, NotFound, ValidationError
from appliance.mail import certs
from appliance.mail.errors import SmimeError
from appliance.models import Mailbox, Tenant
from appliance.models.access import Scope, load_actor
from appliance.models.access import smime as access
from appliance.security.secrets import SecretBox
from appliance.webui.keys import CONFIG, DB, USER
from appliance.webui.locale import N_
from appliance.webui.security import csrf_token, require_role
from appliance.webui.api import bodies
from appliance.webui.api.base import api, read_json_object

routes = web.RouteTableDef()
PAGE = "/admin/mail/smime"


def secret_box(request: web.Request) -> SecretBox:
    """The box that seals mail secrets, under this appliance's store key."""
    data = DataDir(request.app[CONFIG].data_dir)
    return SecretBox(data.read_key(data.store_key))


async def _run(request: web.Request, fn: Callable[..., Any], *args: Any) -> Any:
    uid, remote = request[USER].id, request.remote or ""
    return await request.app[DB].call(lambda: fn(Scope(load_actor(uid, remote)), *args))


def _json_error(exc: Exception) -> web.Response:
    if isinstance(exc, ValidationError):
        return web.json_response({"error": "validation", "fields": exc.fields}, status=400)
    if isinstance(exc, NotFound):
        return web.json_response({"error": "not_found"}, status=404)
    if isinstance(exc, Forbidden):
        return web.json_response({"error": "forbidden", "detail": str(exc)}, status=403)
    return web.json_response({"error": "conflict", "detail": str(exc)}, status=409)


def _pair(bundle: bytes, cert: bytes, key: bytes, passphrase: str) -> certs.KeyPair:
    """The key pair from whichever form was given; ValidationError naming the field that is wrong."""
    try:
        if bundle:
            return certs.from_pkcs12(bundle, passphrase)
    except SmimeError as exc:
        raise ValidationError({"pkcs12": str(exc)}) from None
    if not cert and not key:
        raise ValidationError({"pkcs12": "give a PKCS #12 file, or a certificate and its private key"})
    try:
        certs.load_certificate(cert)
    except SmimeError as exc:
        raise ValidationError({"cert_pem": str(exc)}) from None
    try:
        return certs.from_pem(cert, key, passphrase)
    except SmimeError as exc:
        raise ValidationError({"key_pem": str(exc)}) from None


def _partner_pem(cert: bytes) -> str:
    try:
        return certs.pem_of(certs.load_certificate(cert))
    except SmimeError as exc:
        raise ValidationError({"cert_pem": str(exc)}) from None


def _int_or_none(value: Any) -> Any:
    if isinstance(value, str):
        return int(value) if value.strip().isdigit() else (None if not value.strip() else value)
    return value


# --- API ------------------------------------------------------------------------------------------------
@api("GET", "/mail/smime", "Mailbox keys and partner certificates (S/MIME)", "mail", paged=True, table=routes)
@require_role("admin")
async def list_credentials(request: web.Request) -> web.Response:
    """Mailbox keys and partner certificates: `{"items": [...], "next": null}`."""
    return web.json_response({"items": await _run(request, access.list_credentials), "next": None})


@api("POST", "/mail/smime", "Add a mailbox key or a partner certificate", "mail", bodies.SMIME, table=routes)
@require_role("admin")
async def add_credential(request: web.Request) -> web.Response:
    """A mailbox key (`mailbox_id` with `key_pem`+`cert_pem` or `pkcs12_base64`, `passphrase`) or a partner
    certificate (`cert_pem`, `trusted`); 400 naming each bad field."""
    data = await read_json_object(request)
    try:
        if data.get("mailbox_id") is not None or data.get("key_pem") or data.get("pkcs12_base64"):
            try:
                bundle = base64.b64decode(str(data.get("pkcs12_base64") or ""), validate=True)
            except (binascii.Error, ValueError):
                raise ValidationError({"pkcs12_base64": "must be base64"}) from None
            pair = _pair(bundle, str(data.get("cert_pem") or "").encode(), str(data.get("key_pem") or "").encode(),
                         str(data.get("passphrase") or ""))
            created = await _run(request, access.add_keypair, secret_box(request), data.get("mailbox_id"),
                                 data.get("email"), pair)
        else:
            created = await _run(request, access.add_partner, data.get("tenant_id"),
                                 _partner_pem(str(data.get("cert_pem") or "").encode()), data.get("email"),
                                 bool(data.get("trusted", False)))
    except DomainError as exc:
        return _json_error(exc)
    return web.json_response(created, status=201)


@api("DELETE", r"/mail/smime/{id:\d+}", "Remove a key or certificate", "mail", table=routes)
@require_role("admin")
async def delete_credential(request: web.Request) -> web.Response:
    """Remove a key or certificate."""
    try:
        await _run(request, access.delete, int(request.match_info["id"]))
    except DomainError as exc:
        return _json_error(exc)
    return web.json_response({"id": int(request.match_info["id"]), "deleted": True})


# --- console --------------------------------------------------------------------------------------------
async def _page(request: web.Request, errors: dict[str, str] | None = None, form: str = "",
                status: int = 200, notice: str = "") -> web.Response:
    tenant_id = request[USER].tenant_id

    def load(scope: Scope) -> tuple[list[dict[str, Any]], list[Mailbox], list[Tenant]]:
        boxes = list(scope.query(Mailbox).order_by(Mailbox.tenant, Mailbox.name))
        tenants = list(scope.query(Tenant).order_by(Tenant.name)) if tenant_id is None else []
        return access.list_credentials(scope), boxes, tenants
    items, boxes, tenants = await _run(request, load)
    context = {"user": request[USER], "csrf": await csrf_token(request), "section": "mail", "items": items,
               "mailboxes": boxes, "tenants": tenants, "errors": errors or {}, "form": form, "notice": notice,
               "warn_days": certs.EXPIRY_WARNING_DAYS}
    return aiohttp_jinja2.render_template("mail/smime.html", request, context, status=status)


@routes.get(PAGE)
@require_role("admin")
async def admin_page(request: web.Request) -> web.Response:
    """Keys and certificates with subject, issuer, validity, fingerprint and expiry warnings; upload forms."""
    notice = {"key": N_("The key was added; it is stored sealed."), "partner": N_("The certificate was added."),
              "deleted": N_("Removed.")}.get(request.query.get("done", ""), "")
    return await _page(request, notice=notice)


async def _upload(field: Any) -> bytes:
    if field is None or isinstance(field, str) or not hasattr(field, "file"):
        return b""
    data = field.file.read(certs.MAX_UPLOAD_BYTES + 1)
    if len(data) > certs.MAX_UPLOAD_BYTES:
        raise ValidationError({field.name: f"is larger than {certs.MAX_UPLOAD_BYTES // 1000} kB: not a key file"})
    return data


@routes.post(PAGE + "/keys")
@require_role("admin")
async def admin_add_key(request: web.Request) -> web.StreamResponse:
    """The console's mailbox-key form (multipart: a PKCS #12 file, or certificate and key files)."""
    form = await request.post()
    try:
        pair = _pair(await _upload(form.get("pkcs12")), await _upload(form.get("cert_pem")),
                     await _upload(form.get("key_pem")), str(form.get("passphrase", "")))
        await _run(request, access.add_keypair, secret_box(request), _int_or_none(form.get("mailbox_id", "")),
                   form.get("email", ""), pair)
    except ValidationError as exc:
        return await _page(request, exc.fields, "key", 400)
    except Forbidden as exc:
        raise web.HTTPForbidden(text=f"You are not allowed to do this: {exc}") from None
    raise web.HTTPFound(PAGE + "?done=key")


@routes.post(PAGE + "/partners")
@require_role("admin")
async def admin_add_partner(request: web.Request) -> web.StreamResponse:
    """The console's partner-certificate form."""
    form = await request.post()
    try:
        pem = _partner_pem(await _upload(form.get("cert_pem")))
        await _run(request, access.add_partner, _int_or_none(form.get("tenant_id", "")), pem, form.get("email", ""),
                   form.get("trusted") == "on")
    except ValidationError as exc:
        return await _page(request, exc.fields, "partner", 400)
    except Forbidden as exc:
        raise web.HTTPForbidden(text=f"You are not allowed to do this: {exc}") from None
    raise web.HTTPFound(PAGE + "?done=partner")


@routes.post(PAGE + r"/{id:\d+}/delete")
@require_role("admin")
async def admin_delete(request: web.Request) -> web.StreamResponse:
    """The console's remove button."""
    try:
        await _run(request, access.delete, int(request.match_info["id"]))
    except NotFound:
        raise web.HTTPNotFound(text="No such key or certificate.") from None
    except Forbidden as exc:
        raise web.HTTPForbidden(text=f"You are not allowed to do this: {exc}") from None
    raise web.HTTPFound(PAGE + "?done=deleted")
