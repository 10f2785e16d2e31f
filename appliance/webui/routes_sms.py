"""SMS in the API and the admin console (C10): send an SMS (`POST /api/v1/sms`, token auth), its delivery
status, the modems' state, and the page "Emulated GSM network" to play the other side of `make run`."""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.domain.errors import NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.models import Message, ServiceAddress, Tenant, Ticket
from appliance.models.access import Scope
from appliance.mail.models import MailAccount
from appliance.sms import emulated, http_gateway, inbound_http, inbound_mail, outbox
from appliance.intake.errors import RejectedInput
from appliance.sms.intake import pending_parts, route
from appliance.sms.models import SmsOutbox
from appliance.webui.api import bodies
from appliance.webui.api.base import api, json_error, object_id, read_json, respond, run
from appliance.webui.keys import DB, SUPERVISOR, USER
from appliance.webui.security import csrf_token, require_role
from hardware.gsm.errors import GsmError, PduError
from hardware.gsm.pdu import split_text

routes = web.RouteTableDef()   # the console pages; the API operations register on api.base.routes
TEXT_MAX = 5000                # characters; ~33 GSM-7 parts, well inside the 255 parts TS 23.040 allows
KEY_MAX = 200
PAGE_MAX = 200


def _text(data: dict[str, Any], name: str, errors: dict[str, str], required: bool, limit: int) -> str:
    value = data.get(name, "")
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        errors[name] = f"must be a text of 1–{limit} characters" if required else f"must be a text ≤ {limit}"
        return ""
    return value


def queue_sms(scope: Scope, data: Any) -> tuple[dict[str, Any], bool]:
    """Validate and queue one SMS for the actor's tenant; (row, created). A repeated key returns the first."""
    scope.require(Perm.TICKETS_WRITE)
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be a JSON object"})
    unknown = set(data) - {"to", "text", "from", "ticket_id", "idempotency_key", "tenant_id"}
    errors: dict[str, str] = {name: "is not a known field" for name in sorted(unknown)}
    tenant_id = scope.tenant_for_create(data.get("tenant_id"))
    region = Tenant.get_by_id(tenant_id).region or "DE"
    to_raw, text = _text(data, "to", errors, True, 40), _text(data, "text", errors, True, TEXT_MAX)
    from_raw = _text(data, "from", errors, False, 40)
    key = _text(data, "idempotency_key", errors, False, KEY_MAX).strip() or None
    to = sender = ""
    if to_raw:
        try:
            to = outbox.normalise_number(to_raw, region)
        except ValueError as exc:
            errors["to"] = str(exc)
    if from_raw:
        try:
            sender = outbox.normalise_number(from_raw, region)
        except ValueError as exc:
            errors["from"] = str(exc)
        else:
            if not ServiceAddress.select().where(ServiceAddress.tenant == tenant_id, ServiceAddress.value == sender,
                                                 ServiceAddress.kind.in_(("sms", "phone"))).exists():
                errors["from"] = "is not one of your SMS service numbers"
    if text and to:
        try:
            split_text(text, to)
        except PduError as exc:
            errors["text"] = f"cannot be sent as SMS: {exc}"
    ticket = None
    if data.get("ticket_id") is not None:
        try:
            ticket = scope.get(Ticket, data["ticket_id"])
        except Exception:  # NotFound for foreign and missing tickets alike
            errors["ticket_id"] = "must be the id of one of your tickets"
    if errors:
        raise ValidationError(errors)
    if key:
        seen = SmsOutbox.get_or_none((SmsOutbox.tenant == tenant_id) & (SmsOutbox.idempotency_key == key))
        if seen is not None:
            return outbox.row_dict(seen), False
    message_id = None
    if ticket is not None:
        msg = Message.create(tenant=tenant_id, ticket=ticket.id, channel="sms", direction="out", kind="reply",
                             sender=sender, recipient=to, body=text,
                             created_by=scope.actor.user_id if scope.actor.tenant_id == tenant_id else None)
        message_id = msg.id
    row = outbox.enqueue(tenant_id, to, text, ticket_id=ticket.id if ticket else None, message_id=message_id,
                         kind="reply" if ticket else "notification", from_number=sender, idempotency_key=key)
    scope.audit("sms.queue", row, tenant_id, {"to": to, "ticket_id": ticket.id if ticket else None},
                object_type="sms")
    return outbox.row_dict(row), True


def _wake(request: web.Request) -> None:
    svc = request.app[SUPERVISOR].service("sms")
    if svc is not None and hasattr(svc, "wake_outbox"):
        svc.wake_outbox()


@api("POST", "/sms", "Send an SMS (a notification, or a reply on a ticket with ticket_id); 202 when queued",
     "sms")
async def send_sms(request: web.Request) -> web.Response:
    """Queue an SMS: `{"to", "text"}`, optional `from` (a service number), `ticket_id`, `idempotency_key`."""
    data = await read_json(request)
    row, created = await run(request, queue_sms, data)
    if created:
        _wake(request)
    return respond({**row, "duplicate": not created}, status=202 if created else 200)


def _check_inbound(scope: Scope, data: Any) -> inbound_http.InboundSms:
    """A gateway's SMS checked field by field; `to` must be a service number of the caller's tenant."""
    scope.require(Perm.TICKETS_WRITE)
    region = (Tenant.get_by_id(scope.actor.tenant_id).region or "DE") if scope.actor.tenant_id else "DE"
    sms, errors = inbound_http.parse(data, region)
    if sms is not None:
        try:
            tenant_id = route(sms.to)[0]
        except RejectedInput:
            tenant_id = None
        # Another tenant's number reads like no number at all: nothing to learn about other tenants.
        if tenant_id is None or (scope.actor.tenant_id is not None and tenant_id != scope.actor.tenant_id):
            errors["to"] = "is not one of your SMS service numbers (add it to a mailbox as sms:+…)"
    if errors or sms is None:
        raise ValidationError(errors)
    return sms


@api("POST", "/sms/inbound", "An SMS received by an HTTP(S) SMS gateway: {from, to, text, id}; 202 when "
     "stored durably; the same id again is the same message", "sms", bodies.SMS_INBOUND)
async def inbound_sms(request: web.Request) -> web.Response:
    """Spool a gateway's SMS (fsync) and answer 202; intake puts it on a ticket like a modem's SMS."""
    sms = await run(request, _check_inbound, await read_json(request))
    svc = _service(request)
    if svc is None or getattr(svc, "pipeline", None) is None:
        raise web.HTTPServiceUnavailable(text='{"error": "unavailable", "message": "the sms service is not '
                                              'running; the gateway should retry"}', content_type="application/json")
    await svc.accept_inbound(inbound_http.to_entry(sms))
    return respond({"accepted": True, "id": sms.gateway_id, "to": sms.to, "from": sms.sender}, status=202)


def _report(scope: Scope, data: Any, gateway: http_gateway.GatewayConfig | None) -> dict[str, Any]:
    """Apply a gateway's delivery report inside the caller's tenant; 404 when no SMS of it has that id."""
    scope.require(Perm.TICKETS_WRITE)
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be a JSON object with id and status"})
    errors = {name: "is not a known field" for name in sorted(set(data) - {"id", "status", "error"})}
    gateway_id, word, detail = data.get("id"), data.get("status"), data.get("error", "")
    if isinstance(gateway_id, int) and not isinstance(gateway_id, bool):
        gateway_id = str(gateway_id)
    if not isinstance(gateway_id, str) or not gateway_id.strip() or len(gateway_id) > http_gateway.ID_MAX:
        errors["id"] = f"is required: the gateway's message id (a string or integer, ≤ {http_gateway.ID_MAX})"
    state = None
    if not isinstance(word, str) or not word.strip():
        errors["status"] = "is required: delivered, failed or pending (or a word of sms.gateway_report_map)"
    else:
        state = http_gateway.report_state(gateway or http_gateway.GatewayConfig(url=""), word)
        if state is None:
            errors["status"] = (f"{word[:40]!r} is not delivered, failed or pending, nor a word of "
                                "sms.gateway_report_map")
    if not isinstance(detail, str) or len(detail) > 2000:
        errors["error"] = "must be a text ≤ 2000"
    if errors:
        raise ValidationError(errors)
    tenant = None if scope.actor.system_admin else scope.actor.tenant_id
    if tenant is None and not scope.actor.system_admin:
        raise NotFound("no SMS with this gateway id")
    row = outbox.apply_gateway_report(tenant, str(gateway_id).strip(), str(state), detail or f"gateway: {word}")
    if row is None:
        raise NotFound(f"no SMS sent through the gateway has the id {str(gateway_id)[:60]!r}")
    return outbox.row_dict(row)


@api("POST", "/sms/reports", "A delivery report from the HTTP(S) SMS gateway: {id, status, error}; the SMS sent "
     "under that gateway id goes delivered or undeliverable", "sms", bodies.SMS_REPORT)
async def gateway_report(request: web.Request) -> web.Response:
    """Apply the report; answers the SMS row as it is now (404 for an unknown id, 400 naming a bad field)."""
    data = await read_json(request)
    svc = _service(request)
    row = await run(request, _report, data, getattr(svc, "gateway", None))
    if svc is not None and hasattr(svc, "report_applied"):
        svc.report_applied(row)
    return respond(row)


def _list(scope: Scope, query: dict[str, str]) -> dict[str, Any]:
    scope.require(Perm.TICKETS_READ)
    errors: dict[str, str] = {}

    def num(name: str) -> int | None:
        v = query.get(name)
        if v in (None, ""):
            return None
        if not v.isdigit():
            errors[name] = "must be a positive integer"
            return None
        return int(v)
    ticket_id, message_id, cursor, limit = num("ticket_id"), num("message_id"), num("cursor"), num("limit")
    state = query.get("state") or None
    if state is not None and state not in outbox.STATES:
        errors["state"] = "must be one of " + ", ".join(outbox.STATES)
    if limit is not None and not 1 <= limit <= PAGE_MAX:
        errors["limit"] = f"must be 1–{PAGE_MAX}"
    if errors:
        raise ValidationError(errors)
    tenant = scope.actor.tenant_id if not scope.actor.system_admin else None
    if tenant is None and not scope.actor.system_admin:
        return {"items": [], "next": None}
    items, nxt = outbox.page(tenant, ticket_id=ticket_id, message_id=message_id, state=state,
                             limit=limit or 50, before=cursor)
    return {"items": items, "next": str(nxt) if nxt is not None else None}


@api("GET", "/sms", "Outgoing SMS with their delivery status, newest first", "sms",
     query=("ticket_id", "message_id", "state", "limit", "cursor"), paged=True)
async def list_sms(request: web.Request) -> web.Response:
    """`{"items": [...], "next": cursor}`; each item with state, parts and their status reports."""
    return respond(await run(request, _list, dict(request.query)))


def _one(scope: Scope, row_id: int) -> dict[str, Any]:
    scope.require(Perm.TICKETS_READ)
    return outbox.row_dict(scope.get(SmsOutbox, row_id))


@api("GET", r"/sms/{id:\d+}", "One outgoing SMS and its delivery status", "sms")
async def show_sms(request: web.Request) -> web.Response:
    """One row; 404 for rows of other tenants."""
    return respond(await run(request, _one, object_id(request)))


def _service(request: web.Request) -> Any:
    return request.app[SUPERVISOR].service("sms")


@api("GET", "/sms/modems", "The GSM modems' live state", "sms", table=routes)
@require_role("admin")
async def modems_json(request: web.Request) -> web.Response:
    """The modems' live state (the same as the console shows)."""
    svc = _service(request)
    return web.json_response(svc.health() if svc is not None else {"modems": [], "error": "sms is not running"})


def _emulator(request: web.Request) -> Any:
    # The emulated network is the appliance's, not a tenant's: only the appliance admin plays it.
    if request[USER].tenant_id is not None:
        raise json_error(403, "forbidden", "only the appliance admin may drive the emulated GSM network")
    svc = _service(request)
    name = request.match_info["name"]
    emu = svc.emulators().get(name) if svc is not None else None
    if emu is None:
        raise json_error(404, "not_found", f"no emulated modem {name} (the sms service runs none by that name)")
    return emu


@api("POST", "/sms/emulator/{name}/inject", "An SMS arrives at an emulated modem (appliance admin)", "sms", bodies.SMS_INJECT, table=routes)
@require_role("admin")
async def inject_json(request: web.Request) -> web.Response:
    """An SMS arrives at an emulated modem: `{"from", "text"}`; answers the SIM slots it took."""
    emu = _emulator(request)
    data = await read_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("from"), str) or not isinstance(data.get("text"), str):
        raise json_error(400, "validation", fields={"from": "a sender number or name", "text": "the message"})
    try:
        slots = emulated.inject(emu, data["from"], data["text"])
    except GsmError as exc:
        raise json_error(400, "validation", str(exc), {"text": str(exc)}) from None
    return web.json_response({"stored_at": slots}, status=201)


# --- the console -----------------------------------------------------------------------------------
def _page_data(tenant_id: int | None) -> dict[str, Any]:
    items, _ = outbox.page(tenant_id, limit=50)
    accounts = MailAccount.select().where(MailAccount.kind == inbound_mail.KIND).order_by(MailAccount.id)
    if tenant_id is not None:
        accounts = accounts.where(MailAccount.tenant == tenant_id)
    mail_in = [{"id": a.id, "name": a.name, "server": f"{a.protocol} {a.host}", "number": a.sms_number,
                "active": a.active, "fetched": a.fetched_total, "last_error": a.last_error,
                "last_ok_at": a.last_ok_at.isoformat(timespec="seconds") + "Z" if a.last_ok_at else ""}
               for a in accounts]
    return {"outbox": items, "outbox_counts": outbox.counts(), "parts_waiting": pending_parts(), "mail_in": mail_in}


@routes.get("/admin/sms")
@require_role("admin")
@aiohttp_jinja2.template("sms/admin.html")
async def admin_page(request: web.Request) -> dict[str, Any]:
    """Modems (state, signal, registration, last activity, errors), the outbox, the emulated network."""
    svc = _service(request)
    health = svc.health() if svc is not None else {}
    data = await request.app[DB].call(_page_data, request[USER].tenant_id)
    emus = svc.emulators() if svc is not None else {}
    network = {name: {"sent": emulated.sent_view(emu), "stored": emulated.stored_count(emu),
                      "unplugged": emu.unplugged, "number": next((m["number"] for m in health.get("modems", [])
                                                                  if m["name"] == name), "")}
               for name, emu in emus.items()}
    return {"user": request[USER], "csrf": await csrf_token(request), "section": "sms", "health": health,
            "running": svc is not None, "network": network, "flash": request.query.get("done", ""), **data}


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: str(v) for k, v in form.items()}


@routes.post("/admin/sms/emulator/{name}/inject")
@require_role("admin")
async def inject_form(request: web.Request) -> web.StreamResponse:
    """The page's "send an SMS to the appliance" form."""
    emu = _emulator(request)
    form = await _form(request)
    try:
        emulated.inject(emu, form.get("from", "").strip() or "+491701234567", form.get("text", ""))
    except GsmError as exc:
        raise web.HTTPBadRequest(text=f"The SMS was not injected: {exc}") from None
    raise web.HTTPFound(f"/admin/sms?done=injected#emu-{request.match_info['name']}")


@routes.post("/admin/sms/emulator/{name}/report")
@require_role("admin")
async def report_form(request: web.Request) -> web.StreamResponse:
    """The network answers one sent message with a status report (delivered or failed)."""
    emu = _emulator(request)
    form = await _form(request)
    try:
        emulated.report(emu, int(form.get("reference", "")), form.get("outcome", "delivered") == "delivered")
    except (GsmError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"No status report: {exc}") from None
    raise web.HTTPFound(f"/admin/sms?done=reported#emu-{request.match_info['name']}")


@routes.post("/admin/sms/emulator/{name}/plug")
@require_role("admin")
async def plug_form(request: web.Request) -> web.StreamResponse:
    """Unplug the emulated modem, or plug it back in."""
    emu = _emulator(request)
    form = await _form(request)
    if form.get("action") == "unplug":
        await emulated.unplug(emu)
    else:
        emulated.plug_in(emu)
    raise web.HTTPFound(f"/admin/sms?done={form.get('action', 'plug')}#emu-{request.match_info['name']}")


@routes.post(r"/admin/sms/outbox/{id:\d+}/retry")
@require_role("admin")
async def retry_form(request: web.Request) -> web.StreamResponse:
    """Queue a failed SMS again."""
    row_id, tenant = int(request.match_info["id"]), request[USER].tenant_id

    def work() -> bool:
        row = SmsOutbox.get_or_none(SmsOutbox.id == row_id)
        if row is None or (tenant is not None and row.tenant_id != tenant) or row.state != "failed":
            return False
        outbox.retry(row_id)
        return True
    if not await request.app[DB].call(work):
        raise web.HTTPNotFound(text=f"No failed SMS {row_id}.")
    _wake(request)
    raise web.HTTPFound("/admin/sms?done=retry")
