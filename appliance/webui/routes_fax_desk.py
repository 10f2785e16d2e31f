"""Faxes from the desk's ticket view (C5, C11): "Send as fax" queues a cover sheet and/or an uploaded PDF or image
in the fax outbox; the ticket shows each outgoing fax with its state, and its transmission report has a page.

The ticket is read through the scoped accessor, so an agent reaches only faxes of tickets they may see.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.domain.errors import Forbidden, NotFound, ValidationError
from appliance.fax.outbox_view import outbox_view as job_json, status_event
from appliance.models.access import Scope, load_actor
from appliance.webui.keys import BUS, DB, STORE, SUPERVISOR, USER
from appliance.webui.routes_acd import STAFF
from appliance.webui.security import require_role

routes = web.RouteTableDef()
MAX_UPLOAD = 20 * 1024 * 1024
LISTED = 50  # outgoing faxes shown per ticket


def _error(status: int, code: str, message: str, **extra: Any) -> web.HTTPException:
    cls = {400: web.HTTPBadRequest, 404: web.HTTPNotFound}[status]
    return cls(text=json.dumps({"error": code, "message": message, **extra}), content_type="application/json")


def _ticket(user_id: int, remote: str, ticket_id: int) -> Any:
    """The ticket if the user may see it (scoped accessor); NotFound otherwise."""
    from appliance.models import Ticket
    return Scope(load_actor(user_id, remote)).get(Ticket, ticket_id)


def fax_number_of(ticket: Any) -> str:
    """The number to prefill: the customer's fax identifier, else the sender of the ticket's last inbound fax."""
    from appliance.models import CustomerIdentifier, Message
    if ticket.customer_id:
        ident = (CustomerIdentifier.select().where((CustomerIdentifier.customer == ticket.customer_id)
                                                   & (CustomerIdentifier.kind == "fax")).first())
        if ident is not None:
            return ident.value
    last = (Message.select().where((Message.ticket == ticket.id) & (Message.channel == "fax")
                                   & (Message.direction == "in") & (Message.sender != ""))
            .order_by(Message.id.desc()).first())
    return last.sender if last is not None else ""


async def _in_db(request: web.Request, fn: Any) -> Any:
    try:
        return await request.app[DB].call(fn)
    except (NotFound, Forbidden):
        raise _error(404, "not_found", "No such ticket.") from None


@routes.get(r"/desk/tickets/{id:\d+}/faxes")
@require_role(*STAFF)
async def ticket_faxes(request: web.Request) -> web.Response:
    """The ticket's outgoing faxes (newest first) and the number to prefill."""
    from appliance.fax.models import FaxOutbox
    user, ticket_id = request[USER], int(request.match_info["id"])

    def load() -> dict[str, Any]:
        ticket = _ticket(user.id, request.remote or "", ticket_id)
        jobs = (FaxOutbox.select().where((FaxOutbox.ticket_id == ticket.id) & (FaxOutbox.tenant_id == ticket.tenant_id))
                .order_by(FaxOutbox.id.desc()).limit(LISTED))
        items = [job_json(j) for j in jobs]
        for item in items:  # the page on the line now, while a fax is being sent
            item["progress"] = progress.get(item["id"]) if item["state"] == "sending" else None
        return {"number": fax_number_of(ticket), "items": items, "running": service is not None}
    service = request.app[SUPERVISOR].service("fax")
    progress = dict(getattr(service, "progress", {}))
    return web.json_response(await _in_db(request, load))


def _with_variables(user_id: int, remote: str, ticket: Any, cover: str) -> str:
    """The cover text with its {{ variables }} filled for the ticket (images as placeholder lines, E4)."""
    from appliance.domain import textvars
    from appliance.models.access.content import ticket_context
    if "{{" not in cover and "{%" not in cover:
        return cover
    return textvars.render(cover, ticket_context(Scope(load_actor(user_id, remote)), ticket), fax=True)


def _known_pictures(tenant_id: int, cover: str) -> list[str]:
    """The placeholders' digests that are pictures of this tenant (a customer's text cannot name another's)."""
    from appliance.domain.images import FAX_TOKEN
    from appliance.models.access.images import image_of_tenant
    return [d for d in dict.fromkeys(FAX_TOKEN.findall(cover)) if image_of_tenant(tenant_id, d) is not None]


def _pictures(store: Any, digests: list[str]) -> dict[str, bytes]:
    """The pictures' bytes by digest, from the document store."""
    from appliance.errors import StoreError
    found = {}
    for digest in digests:
        try:
            found[digest] = store.get(digest)
        except StoreError:
            continue  # gone from the store: the cover goes without it rather than not at all
    return found


@routes.post(r"/desk/tickets/{id:\d+}/faxes")
@require_role(*STAFF)
async def send_from_ticket(request: web.Request) -> web.Response:
    """Queue a fax: multipart `number`, `cover` (text) and/or `file` (PDF, PNG, JPEG, TIFF; at most 20 MB)."""
    from appliance.domain.identifiers import normalise_phone
    from appliance.fax.cover import FaxDocumentError, desk_fax_pdf
    from appliance.models import Tenant
    from appliance.services.fax import queue_fax
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise _error(400, "invalid", "send a form (multipart/form-data) with number, cover and file", field="file")
    form = await request.post()
    user, ticket_id = request[USER], int(request.match_info["id"])
    upload = form.get("file")
    data = upload.file.read(MAX_UPLOAD + 1) if upload is not None and hasattr(upload, "file") else b""
    if len(data) > MAX_UPLOAD:
        raise _error(400, "too_large", "The document is larger than 20 MB.", field="file")
    cover = str(form.get("cover", ""))

    def ticket_and_region() -> tuple[Any, str, str, str]:
        ticket = _ticket(user.id, request.remote or "", ticket_id)
        tenant = Tenant.get_by_id(ticket.tenant_id)
        return ticket, tenant.region, tenant.name, _with_variables(user.id, request.remote or "", ticket, cover)
    try:
        ticket, region, sender, cover = await _in_db(request, ticket_and_region)
    except ValidationError as exc:
        raise _error(400, "invalid", f"Cover text: {'; '.join(exc.fields.values())}.", field="cover") from None
    try:
        number = normalise_phone(str(form.get("number", "")), region or "DE")
    except ValueError as exc:
        raise _error(400, "invalid", f"Fax number: {exc}.", field="number") from None
    loop = asyncio.get_running_loop()
    pictures = await loop.run_in_executor(None, _pictures, request.app[STORE],
                                          await request.app[DB].call(_known_pictures, ticket.tenant_id, cover))
    try:
        pdf, pages = await loop.run_in_executor(None, desk_fax_pdf, cover, data or None, number, sender, pictures)
    except FaxDocumentError as exc:
        raise _error(400, "invalid", f"{str(exc)[:1].upper()}{str(exc)[1:]}.", field="file" if data else "cover") \
            from None
    document = await loop.run_in_executor(None, request.app[STORE].put, pdf)

    def queue() -> Any:
        from appliance.fax.models import FaxOutbox
        return FaxOutbox.get_by_id(queue_fax(ticket.tenant_id, ticket.id, number, document))
    job = await request.app[DB].call(queue)
    event = status_event(job)
    if event is not None:  # other desks showing this ticket list the new fax at once
        request.app[BUS].publish(event)
    service = request.app[SUPERVISOR].service("fax")
    if service is not None:
        service.wake_outbox()
    return web.json_response({**job_json(job), "page_count": pages}, status=201)


@routes.get(r"/desk/faxes/{id:\d+}/report")
@require_role(*STAFF)
@aiohttp_jinja2.template("desk_fax_report.html")
async def report_page(request: web.Request) -> dict[str, Any]:
    """The transmission report of one outgoing fax: number, remote station, attempts, every page's status."""
    from appliance.fax.models import FaxOutbox
    user, job_id = request[USER], int(request.match_info["id"])

    def load() -> dict[str, Any]:
        job = FaxOutbox.get_or_none(FaxOutbox.id == job_id)
        if job is None or job.ticket_id is None:
            raise NotFound("no such fax")
        ticket = _ticket(user.id, request.remote or "", job.ticket_id)
        if ticket.tenant_id != job.tenant_id:
            raise NotFound("no such fax")
        return {"job": job_json(job), "report": json.loads(job.report or "{}"), "ticket": ticket}
    try:
        data = await request.app[DB].call(load)
    except (NotFound, Forbidden):
        raise web.HTTPNotFound(text="No such fax.") from None
    return {"user": user, "section": "desk", **data}
