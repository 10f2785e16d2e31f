"""Fax over HTTP: line states, sending a fax from a ticket (outbox), a received fax's documents, and on the
emulated line a test fax from "the outside world" to the appliance."""
from __future__ import annotations

import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.domain.identifiers import normalise_phone
from appliance.webui.keys import DB, STORE, SUPERVISOR, USER
from appliance.webui.locale import N_
from appliance.webui.routes_acd import _error, _json
from appliance.webui.security import csrf_token, require_role
from appliance.webui.api import bodies
from appliance.webui.api.base import api

LINE_STATES = (N_("idle"), N_("sending"), N_("down"))  # a line's state on the admin fax page, translated there

routes = web.RouteTableDef()
STAFF = ("agent", "team_lead", "supervisor", "admin")
MAX_DOCUMENT = 20 * 1024 * 1024


def _service(request: web.Request):
    service = request.app[SUPERVISOR].service("fax")
    if service is None:
        raise _error(503, "fax_unavailable", "The fax service is not running.")
    return service


@api("GET", "/fax/lines", "The fax lines and their state", "fax", table=routes)
@require_role("admin", "it")
async def lines(request: web.Request) -> web.Response:
    """Every fax line with its state, number and counters: the appliance's hardware, for its operators only
    (tenant users never see the site's devices)."""
    if getattr(request[USER], "tenant_id", None) is not None:
        raise web.HTTPForbidden(text='{"error": "forbidden"}', content_type="application/json")
    service = _service(request)
    return web.json_response({"items": [{"id": line.name, **line.health()} for line in service.lines], "next": None,
                              "emulated": service.network is not None})


@api("POST", "/fax/outbox", "Send a fax (multipart: number, file, optional ticket_id)", "fax", upload=True, table=routes)
@require_role(*STAFF)
async def send_fax(request: web.Request) -> web.Response:
    """Queue a fax: multipart `number`, `file` (PDF or image) and optional `ticket_id` (a report goes there)."""
    from appliance.models import Ticket
    from appliance.services.fax import queue_fax
    if not request.content_type.startswith("multipart/"):
        raise _error(400, "invalid", "send multipart/form-data with number and file", field="file")
    form = await request.post()
    user = request[USER]
    tenant = getattr(user, "tenant_id", None)
    try:
        number = normalise_phone(str(form.get("number", "")), "DE")
    except ValueError as exc:
        raise _error(400, "invalid", f"number {exc}", field="number") from None
    upload = form.get("file")
    if upload is None or not hasattr(upload, "file"):
        raise _error(400, "invalid", "file: the document to fax is missing", field="file")
    data = upload.file.read(MAX_DOCUMENT + 1)
    if len(data) > MAX_DOCUMENT:
        raise _error(400, "invalid", "file: at most 20 MB", field="file")
    if not (data.startswith(b"%PDF") or data[:4] in (b"\x89PNG", b"II*\x00", b"MM\x00*") or data[:2] == b"\xff\xd8"):
        raise _error(400, "invalid", "file: a PDF, PNG, JPEG or TIFF", field="file")
    ticket_id = form.get("ticket_id")

    def queue() -> int:
        tid = None
        if ticket_id:
            ticket = Ticket.get_or_none(Ticket.id == int(ticket_id))
            if ticket is None or (tenant is not None and ticket.tenant_id != tenant):
                raise _error(404, "no_such_ticket", f"No ticket {ticket_id}.")
            tid = ticket.tenant_id
        return queue_fax(tid if ticket_id else tenant, int(ticket_id) if ticket_id else None, number,
                         request.app[STORE].put(data))

    try:
        job_id = await request.app[DB].call(queue)
    except ValueError:
        raise _error(400, "invalid", "ticket_id must be a number", field="ticket_id") from None
    return web.json_response({"id": job_id, "number": number, "state": "queued"}, status=201)


@api("GET", r"/fax/outbox/{id:\d+}", "A sent fax's state and report", "fax", table=routes)
@require_role(*STAFF)
async def outbox_job(request: web.Request) -> web.Response:
    """A queued or sent fax with its transmission report."""
    from appliance.fax.models import FaxOutbox
    tenant = getattr(request[USER], "tenant_id", None)
    job = await request.app[DB].call(FaxOutbox.get_or_none, FaxOutbox.id == int(request.match_info["id"]))
    if job is None or (tenant is not None and job.tenant_id != tenant):
        raise _error(404, "no_such_fax", "No such fax.")
    return web.json_response({"id": job.id, "number": job.number, "state": job.state, "attempts": job.attempts,
                              "last_error": job.last_error, "report": json.loads(job.report or "{}")})


@api("GET", r"/fax/received/{message_id:\d+}/{kind:pdf|tiff|preview}", "A received fax as PDF, TIFF or preview", "fax", table=routes)
@require_role(*STAFF)
async def received_document(request: web.Request) -> web.Response:
    """A received fax as PDF, the original TIFF, or the first-page PNG preview."""
    from appliance.fax.models import FaxRecord
    tenant = getattr(request[USER], "tenant_id", None)
    record = await request.app[DB].call(FaxRecord.get_or_none,
                                        FaxRecord.message_id == int(request.match_info["message_id"]))
    if record is None or (tenant is not None and record.tenant_id != tenant):
        raise _error(404, "no_such_fax", "No such fax.")
    kind = request.match_info["kind"]
    digest, ctype = {"pdf": (record.pdf, "application/pdf"), "tiff": (record.tiff, "image/tiff"),
                     "preview": (record.preview, "image/png")}[kind]
    return web.Response(body=request.app[STORE].get(digest), content_type=ctype)


@api("POST", "/fax/emulator/send-in", "A fax arrives at an emulated line (appliance admin)", "fax", bodies.FAX_SEND_IN, table=routes)
@require_role("admin")
async def emulated_send_in(request: web.Request) -> web.Response:
    """Emulated line only: the outside fax machine sends a test page (or `{"text"}`) to one of our lines."""
    from hardware.fax_modem.pages import document_to_pages
    service = _service(request)
    if service.network is None:
        raise _error(409, "not_emulated", "The fax lines are real modems; send a test fax from a real machine.")
    body = await _json(request)
    number = body.get("number") or service.lines[0].number
    pages = document_to_pages(sample_page_png(str(body.get("text") or "Test fax")))
    report = await service.network.send_in(number, pages)
    return web.json_response({"ok": report.ok, "pages_confirmed": report.pages_confirmed, "reason": report.reason})


def sample_page_png(text: str) -> bytes:
    """A one-page letter with the given text, drawn for the emulated test fax."""
    import io

    from PIL import Image, ImageDraw
    image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 80, 1160, 1674), outline=0, width=4)
    for i, line in enumerate([text[j:j + 60] for j in range(0, len(text), 60)][:40] or [""]):
        draw.text((120, 140 + 34 * i), line, fill=0)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(150, 150))
    return out.getvalue()


@routes.get("/admin/fax")
@require_role("admin", "it")
@aiohttp_jinja2.template("admin/fax.html")
async def fax_page(request: web.Request) -> dict[str, Any]:
    """Fax lines, and on the emulated line a button to send a test fax in."""
    service = request.app[SUPERVISOR].service("fax")
    return {"user": request[USER], "csrf": await csrf_token(request), "section": "services",
            "lines": [line.health() for line in service.lines] if service else [],
            "emulated": bool(service and service.network), "running": service is not None}
