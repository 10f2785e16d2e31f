"""Quarantine in the API and the admin console: list, download, re-process (issue 7 §8).

Entries belong to a channel; the channel's running service (a QuarantineOwner) hands out the raw
bytes and re-processes, so the web layer needs neither the document store nor the parsers. An admin
of a tenant sees that tenant's entries; the appliance admin (no tenant) sees all.
"""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from appliance.intake import quarantine
from appliance.intake.errors import QuarantineError
from appliance.webui.keys import DB, SUPERVISOR, USER
from appliance.webui.security import csrf_token, require_role
from appliance.webui.api.base import api

routes = web.RouteTableDef()
CHANNEL_SERVICE = {"mail": "mail", "sms": "sms", "fax": "fax", "scanner": "scanner"}
DOWNLOAD_EXT = {"mail": "eml", "sms": "pdu", "fax": "tif"}


def _json_error(cls: type[web.HTTPError], error: str, message: str) -> web.HTTPError:
    return cls(text=web.json_response({"error": error, "message": message}).text, content_type="application/json")


def _tenant_filter(request: web.Request) -> int | None:
    return request[USER].tenant_id


async def _entry(request: web.Request) -> Any:
    """The entry named in the path, 404 when missing or of another tenant."""
    entry_id = int(request.match_info["id"])
    try:
        entry = await request.app[DB].call(quarantine.get, entry_id)
    except QuarantineError:
        raise _json_error(web.HTTPNotFound, "not_found", f"no quarantine entry {entry_id}") from None
    tenant = _tenant_filter(request)
    if tenant is not None and entry.tenant_id != tenant:
        raise _json_error(web.HTTPNotFound, "not_found", f"no quarantine entry {entry_id}")
    return entry


def _owner(request: web.Request, channel: str) -> Any:
    service = request.app[SUPERVISOR].service(CHANNEL_SERVICE.get(channel, channel))
    if service is None or not hasattr(service, "reprocess_quarantined"):
        raise _json_error(web.HTTPServiceUnavailable, "unavailable",
                          f"the {channel} service is not running; start it to download or re-process")
    return service


@api("GET", "/quarantine", "Quarantined input with source, reason and time", "quarantine", query=("limit", "cursor", "state"), paged=True, table=routes)
@require_role("admin")
async def list_entries(request: web.Request) -> web.Response:
    """`{"items": [...], "next": cursor}`; each item with source, reason and time."""
    q = request.query
    try:
        limit = int(q.get("limit", "100"))
        cursor = int(q["cursor"]) if q.get("cursor") else None
        if not 1 <= limit <= quarantine.PAGE_MAX:
            raise ValueError
    except ValueError:
        return web.json_response({"error": "validation", "fields": {
            "limit": f"an integer 1–{quarantine.PAGE_MAX}", "cursor": "the `next` of the previous page"}}, status=400)
    items, nxt = await request.app[DB].call(quarantine.page, limit, cursor, q.get("state") or None,
                                            _tenant_filter(request))
    return web.json_response({"items": items, "next": str(nxt) if nxt is not None else None})


@api("GET", r"/quarantine/{id:\d+}", "One quarantined entry", "quarantine", table=routes)
@require_role("admin")
async def show_entry(request: web.Request) -> web.Response:
    """One entry."""
    return web.json_response(quarantine.entry_dict(await _entry(request)))


@api("GET", r"/quarantine/{id:\d+}/raw", "The raw input of a quarantined entry", "quarantine", table=routes)
@require_role("admin")
async def download(request: web.Request) -> web.Response:
    """The raw input as it arrived, as a download (never rendered)."""
    entry = await _entry(request)
    raw = await _owner(request, entry.channel).quarantine_raw(entry.id)
    name = f"quarantine-{entry.id}.{DOWNLOAD_EXT.get(entry.channel, 'bin')}"
    return web.Response(body=raw, content_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api("POST", r"/quarantine/{id:\d+}/reprocess", "Process a quarantined entry again", "quarantine", table=routes)
@require_role("admin")
async def reprocess(request: web.Request) -> web.StreamResponse:
    """Run the entry through intake again; the answer is the entry afterwards (state, reason, result)."""
    entry = await _entry(request)
    result = await _owner(request, entry.channel).reprocess_quarantined(entry.id)
    if request.path.startswith("/api/"):
        return web.json_response(result)
    raise web.HTTPFound(f"/admin/quarantine#q{entry.id}")


@routes.post(r"/admin/quarantine/{id:\d+}/reprocess")
@require_role("admin")
async def reprocess_form(request: web.Request) -> web.StreamResponse:
    """The console's re-process button."""
    return await reprocess(request)


@routes.get("/admin/quarantine")
@require_role("admin")
@aiohttp_jinja2.template("mail/quarantine.html")
async def admin_page(request: web.Request) -> dict:
    """Held and re-processed entries, newest first, paged."""
    cursor = request.query.get("cursor")
    state = request.query.get("state") or None
    items, nxt = await request.app[DB].call(quarantine.page, 100, int(cursor) if cursor and cursor.isdigit() else None,
                                            state, _tenant_filter(request))
    counts = await request.app[DB].call(quarantine.counts)
    return {"user": request[USER], "csrf": await csrf_token(request), "items": items, "next": nxt,
            "counts": counts, "state": state or "", "section": "quarantine"}
