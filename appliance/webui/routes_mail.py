"""Mail accounts in the API and the admin console: list with per-account status (last fetch, errors),
add, disable; the outbox and spool figures beside them (C3). Passwords are sealed at rest, never shown.
S/MIME keys and certificates: appliance.webui.routes_smime."""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from appliance.domain.errors import NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.mail import credentials, outbox
from appliance.mail.models import MailAccount, MailOutbox
from appliance.domain.identifiers import normalise_phone
from appliance.models import Mailbox, ServiceAddress
from appliance.sms import inbound_mail
from appliance.sms import intake as sms_intake
from appliance.sms.inbound_mail import check_regex
from appliance.models.access import Scope, load_actor
from appliance.webui.keys import DB, SUPERVISOR, USER
from appliance.webui.locale import N_
from appliance.webui.routes_smime import secret_box
from appliance.webui.security import csrf_token, require_role
from appliance.webui.api import bodies
from appliance.webui.api.base import api, read_json_object

routes = web.RouteTableDef()
# The virus check's status words as the mail service reports them (appliance.services.mail), for the catalogue;
# a status with a detail ("ok: ClamAV 1.0", "unreachable: …") is shown with its first word translated.
VIRUS_WORDS = (N_("not configured: no virus check (set [mail] clamd)"), N_("unknown"), N_("ok"), N_("unreachable"),
               N_("fail-closed"), N_("fail-open"), N_("new mail waits in the spool until clamd answers"),
               N_("new mail is delivered unchecked, flagged 'unscanned'"))
PROTOCOLS = {"imap": {"tls": 993, "starttls": 143}, "pop3": {"tls": 995, "starttls": 110}}


def account_dict(a: MailAccount, live: dict[str, Any] | None = None) -> dict[str, Any]:
    """An account as the API shows it; the password is never shown."""
    def at(v: Any) -> str | None:
        return v.isoformat() + "Z" if v else None
    return {"id": a.id, "tenant_id": a.tenant_id, "mailbox_id": a.mailbox_id, "name": a.name, "protocol": a.protocol,
            "host": a.host, "port": a.port, "security": a.security, "ca_file": a.ca_file, "pin_sha256": a.pin_sha256,
            "username": a.username, "folder": a.folder, "poll_s": a.poll_s, "use_idle": a.use_idle, "active": a.active,
            "last_fetch_at": at(a.last_fetch_at), "last_ok_at": at(a.last_ok_at), "last_error": a.last_error,
            "last_error_at": at(a.last_error_at), "fetched_total": a.fetched_total,
            "kind": a.kind, "sms_number": a.sms_number, "sms_sender_regex": a.sms_sender_regex,
            "live": live or {}}


def validate(data: Any, tenant_id: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Checked account values and the errors per field (runs inside a transaction: checks the mailbox)."""
    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        return {}, {"body": "must be a JSON object"}
    out: dict[str, Any] = {}

    def text(name: str, required: bool = True, limit: int = 254) -> None:
        v = data.get(name, "")
        if not isinstance(v, str) or (required and not v.strip()) or len(v) > limit:
            errors[name] = f"must be a text of 1–{limit} characters" if required else f"must be a text ≤ {limit}"
        else:
            out[name] = v.strip()
    for name in ("name", "host", "username"):
        text(name)
    text("password", limit=500)
    for name in ("ca_file", "pin_sha256", "folder"):
        text(name, required=False, limit=500)
    protocol, security = data.get("protocol", "imap"), data.get("security", "tls")
    if protocol not in PROTOCOLS:
        errors["protocol"] = "must be imap or pop3"
    if security not in ("tls", "starttls"):
        errors["security"] = "must be tls (implicit) or starttls; plain text is not offered"
    out["protocol"], out["security"] = protocol, security
    port = data.get("port", PROTOCOLS.get(protocol, {}).get(security))
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        errors["port"] = "must be an integer 1–65535"
    out["port"] = port
    poll = data.get("poll_s", 60)
    if not isinstance(poll, int) or isinstance(poll, bool) or not 1 <= poll <= 86400:
        errors["poll_s"] = "must be an integer 1–86400"
    out["poll_s"] = poll
    out["use_idle"] = bool(data.get("use_idle", True))
    out["folder"] = out.get("folder") or "INBOX"
    _sms_gateway(data, out, errors)
    box_id = data.get("mailbox_id")
    box = Mailbox.get_or_none(Mailbox.id == box_id) if isinstance(box_id, int) and not isinstance(box_id, bool) else None
    if box is None or (tenant_id is not None and box.tenant_id != tenant_id):
        errors["mailbox_id"] = "must be the id of one of your mailboxes"
    else:
        out["mailbox"], out["tenant"] = box.id, box.tenant_id
        if MailAccount.select().where(MailAccount.tenant == box.tenant_id, MailAccount.name == out.get("name")).exists():
            errors["name"] = "an account with this name exists"
        number = out.get("sms_number")
        if number and not ServiceAddress.select().where(ServiceAddress.tenant == box.tenant_id,
                                                        ServiceAddress.kind.in_(sms_intake.ADDRESS_KINDS),
                                                        ServiceAddress.value == number).exists():
            errors["sms_number"] = "is not one of this tenant's SMS service numbers (a mailbox's sms:+…)"
    return out, errors


def _sms_gateway(data: dict[str, Any], out: dict[str, Any], errors: dict[str, str]) -> None:
    """kind, and for an SMS gateway's account its service number (E.164) and sender regex."""
    kind = data.get("kind", "mail") or "mail"
    if kind not in ("mail", inbound_mail.KIND):
        errors["kind"] = f"must be mail or {inbound_mail.KIND}"
        return
    out["kind"] = kind
    if kind == "mail":
        return
    number, regex = data.get("sms_number", ""), data.get("sms_sender_regex", "") or ""
    try:
        out["sms_number"] = normalise_phone(number if isinstance(number, str) else "", "DE")
    except ValueError as exc:
        errors["sms_number"] = f"{exc} (the service number, e.g. +4930123456, the gateway's mail is for)"
    problem = check_regex(regex) if isinstance(regex, str) else "must be a text"
    if problem:
        errors["sms_sender_regex"] = problem
    else:
        out["sms_sender_regex"] = regex


def _live(request: web.Request) -> dict[str, Any]:
    svc = request.app[SUPERVISOR].service("mail")
    return svc.health() if svc is not None else {}


def _accounts(tenant_id: int | None) -> list[MailAccount]:
    q = MailAccount.select().order_by(MailAccount.id)
    return list(q.where(MailAccount.tenant == tenant_id) if tenant_id is not None else q)


@api("GET", "/mail/accounts", "Mail accounts with their live state", "mail", paged=True, table=routes)
@require_role("admin")
async def list_accounts(request: web.Request) -> web.Response:
    """`{"items": [...], "next": null}` with each account's stored and live status."""
    rows = await request.app[DB].call(_accounts, request[USER].tenant_id)
    live = {a["name"]: a for a in _live(request).get("accounts", [])}
    return web.json_response({"items": [account_dict(a, live.get(a.name)) for a in rows], "next": None})


async def _create(request: web.Request, data: Any) -> tuple[dict[str, Any] | None, dict[str, str]]:
    tenant_id = request[USER].tenant_id

    def work() -> tuple[dict[str, Any] | None, dict[str, str]]:
        values, errors = validate(data, tenant_id)
        if errors:
            return None, errors
        password = values.pop("password")
        account = MailAccount.create(**values)
        credentials.set_password(box, account, password)  # sealed, bound to the new row's id
        return account_dict(account), {}
    box = secret_box(request)
    return await request.app[DB].call(work)


@api("POST", "/mail/accounts", "Add a mail account", "mail", bodies.MAIL_ACCOUNT, table=routes)
@require_role("admin")
async def create_account(request: web.Request) -> web.Response:
    """Add an account; 400 naming each bad field."""
    try:
        data = await request.json()
    except ValueError:
        return web.json_response({"error": "malformed_json", "fields": {"body": "is not valid JSON"}}, status=400)
    created, errors = await _create(request, data)
    if errors:
        return web.json_response({"error": "validation", "fields": errors}, status=400)
    return web.json_response(created, status=201)


@api("DELETE", r"/mail/accounts/{id:\d+}", "Remove a mail account", "mail", table=routes)
@require_role("admin")
async def disable_account(request: web.Request) -> web.Response:
    """Stop fetching an account (kept, with its history)."""
    account_id, tenant_id = int(request.match_info["id"]), request[USER].tenant_id

    def work() -> int:
        q = MailAccount.update(active=False).where(MailAccount.id == account_id)
        return (q.where(MailAccount.tenant == tenant_id) if tenant_id is not None else q).execute()
    if not await request.app[DB].call(work):
        return web.json_response({"error": "not_found"}, status=404)
    return web.json_response({"id": account_id, "active": False})


@api("POST", r"/mail/outbox/{id:\d+}/retry", "Send a failed mail again", "mail", table=routes)
@require_role("admin")
async def retry_outbox(request: web.Request) -> web.Response:
    """Queue a failed outgoing mail again."""
    row_id, tenant_id = int(request.match_info["id"]), request[USER].tenant_id

    def work() -> bool:
        row = MailOutbox.get_or_none(MailOutbox.id == row_id)
        if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
            return False
        outbox.retry(row_id)
        return True
    if not await request.app[DB].call(work):
        return web.json_response({"error": "not_found"}, status=404)
    return web.json_response({"id": row_id, "state": "queued"})


@routes.get("/admin/mail")
@require_role("admin")
@aiohttp_jinja2.template("mail/accounts.html")
async def admin_page(request: web.Request) -> dict:
    """Accounts with status, the SMTP listener, spool, outbox and spam filter."""
    return await _page(request)


async def _page(request: web.Request) -> dict:
    tenant_id = request[USER].tenant_id

    def load() -> tuple[list[MailAccount], dict[str, int], list[Mailbox], list[MailOutbox]]:
        boxes = Mailbox.select().order_by(Mailbox.tenant, Mailbox.name)
        if tenant_id is not None:
            boxes = boxes.where(Mailbox.tenant == tenant_id)
        failed = MailOutbox.select(MailOutbox.id, MailOutbox.tenant, MailOutbox.rcpt_to, MailOutbox.last_error,
                                   MailOutbox.attempts).where(MailOutbox.state == "failed").order_by(
                                       MailOutbox.id.desc()).limit(50)
        if tenant_id is not None:
            failed = failed.where(MailOutbox.tenant == tenant_id)
        return _accounts(tenant_id), outbox.counts(), list(boxes), list(failed)
    accounts, counts, boxes, failed = await request.app[DB].call(load)
    live = _live(request)
    by_name = {a["name"]: a for a in live.get("accounts", [])}
    return {"user": request[USER], "csrf": await csrf_token(request), "section": "mail",
            "accounts": [account_dict(a, by_name.get(a.name)) for a in accounts], "live": live,
            "outbox": counts, "mailboxes": boxes, "failed": failed, "errors": {}, "form": {},
            "virus_words": VIRUS_WORDS}


@routes.post("/admin/mail/accounts")
@require_role("admin")
async def admin_create(request: web.Request) -> web.StreamResponse:
    """The console's add-account form; errors are shown next to the fields."""
    form = await request.post()
    data: dict[str, Any] = {k: form.get(k, "") for k in ("name", "protocol", "host", "security", "username",
                                                          "password", "ca_file", "pin_sha256", "folder", "kind",
                                                          "sms_number", "sms_sender_regex")}
    for k in ("port", "poll_s", "mailbox_id"):
        raw = str(form.get(k, "")).strip()
        data[k] = int(raw) if raw.isdigit() else (None if raw else None)
    if data["port"] is None:
        data.pop("port")
    if data["poll_s"] is None:
        data.pop("poll_s")
    data["use_idle"] = form.get("use_idle") == "on"
    created, errors = await _create(request, data)
    if errors:
        context = await _page(request)
        context.update({"errors": errors, "form": {k: v for k, v in data.items() if k != "password"}})
        return aiohttp_jinja2.render_template("mail/accounts.html", request, context, status=400)
    raise web.HTTPFound("/admin/mail")


def _set_password(scope: Scope, box: Any, account_id: int, password: Any) -> dict[str, Any]:
    """Replace an account's password (sealed); the fetcher picks it up with the next account reload."""
    scope.require(Perm.ORG_WRITE)
    account = scope.get(MailAccount, account_id, for_update=True)
    if not isinstance(password, str) or not password or len(password) > 500:
        raise ValidationError({"password": "must be a text of 1–500 characters"})
    credentials.set_password(box, account, password)
    scope.audit("mail_account.password", account, detail={"name": account.name})
    return account_dict(MailAccount.get_by_id(account.id))


async def _password_change(request: web.Request, password: Any) -> dict[str, Any]:
    uid, remote, box = request[USER].id, request.remote or "", secret_box(request)
    account_id = int(request.match_info["id"])
    return await request.app[DB].call(
        lambda: _set_password(Scope(load_actor(uid, remote)), box, account_id, password))


@api("PATCH", r"/mail/accounts/{id:\d+}", "Change a mail account's password (stored sealed)", "mail", table=routes)
@require_role("admin")
async def update_account(request: web.Request) -> web.Response:
    """Change an account's password: `{"password": "…"}`; the answer never contains it."""
    data = await read_json_object(request)
    try:
        return web.json_response(await _password_change(request, data.get("password")))
    except ValidationError as exc:
        return web.json_response({"error": "validation", "fields": exc.fields}, status=400)
    except NotFound:
        return web.json_response({"error": "not_found"}, status=404)


@routes.post(r"/admin/mail/accounts/{id:\d+}/password")
@require_role("admin")
async def admin_password(request: web.Request) -> web.StreamResponse:
    """The console's per-account "new password" form."""
    form = await request.post()
    try:
        await _password_change(request, form.get("password", ""))
    except ValidationError as exc:
        context = await _page(request)
        context["errors"] = {f"password-{request.match_info['id']}": exc.fields["password"]}
        return aiohttp_jinja2.render_template("mail/accounts.html", request, context, status=400)
    except NotFound:
        raise web.HTTPNotFound(text="No such mail account.") from None
    raise web.HTTPFound(f"/admin/mail?saved={request.match_info['id']}#account-{request.match_info['id']}")

