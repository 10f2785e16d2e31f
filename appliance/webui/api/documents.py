"""Documents of customers and tickets (D2): multipart upload into the encrypted store, lists, and downloads
with the right type and file name after the tenant and ownership checks."""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from aiohttp.helpers import content_disposition_header

from appliance.errors import StoreError
from appliance.models.access import documents
from appliance.webui.api.base import api, json_error, object_id, respond, run
from appliance.webui.keys import STORE

CUSTOMER = r"/customers/{id:\d+}"
TICKET = r"/tickets/{id:\d+}"
_LIMIT_MB = documents.MAX_DOCUMENT_BYTES // (1024 * 1024)


def _too_large() -> web.HTTPError:
    return json_error(413, "too_large", f"a document may have at most {_LIMIT_MB} MB",
                      {"file": f"is larger than {_LIMIT_MB} MB"})


async def read_upload(request: web.Request) -> tuple[str, str, bytes]:
    """(filename, declared type, bytes) of a multipart upload's `file` part, bounded in size."""
    if not request.content_type.startswith("multipart/form-data"):
        raise json_error(415, "unsupported_media_type", "upload the file as multipart/form-data",
                         {"file": "send multipart/form-data with the document in the part named file"})
    if request.content_length is not None and request.content_length > documents.MAX_DOCUMENT_BYTES + 64 * 1024:
        raise _too_large()
    reader = await request.multipart()
    found: tuple[str, str, bytes] | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file" and part.filename is not None and found is None:
            data = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                data += chunk
                if len(data) > documents.MAX_DOCUMENT_BYTES:
                    raise _too_large()
            # Browsers escape " and line breaks in the name as %22, %0A (HTML multipart encoding); aiohttp's
            # client escapes every non-ASCII byte so. Undoing it gives the name the user chose.
            found = (unquote(part.filename), part.headers.get("Content-Type", ""), bytes(data))
        else:
            await part.release()
    if found is None:
        raise json_error(400, "validation", "some fields are wrong", {"file": "is required (a part named file)"})
    return found


def _ticket_param(request: web.Request) -> int | None:
    raw = request.query.get("ticket_id", "")
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 2**62:
        raise json_error(400, "validation", "some fields are wrong", {"ticket_id": "must be a ticket id"})
    return int(raw)


async def _upload(request: web.Request, target: documents.Target) -> web.Response:
    # Refuse a foreign or hidden target before the upload is read or stored.
    await run(request, documents.check_target, target)
    filename, mime, data = await read_upload(request)
    if not data:
        raise json_error(400, "validation", "some fields are wrong", {"file": "is empty"})
    # Encrypting and fsyncing a large file is blocking work: off the event loop.
    digest = await asyncio.get_running_loop().run_in_executor(None, request.app[STORE].put, data)
    item = await run(request, documents.file_upload, target, digest, filename, mime, len(data))
    return respond(item, 201)


@api("POST", CUSTOMER + "/documents", f"Upload a document into the customer's record (multipart, field file; "
     f"at most {_LIMIT_MB} MB); ?ticket_id= files it on one of the customer's tickets too", "documents",
     query=("ticket_id",), upload=True)
async def upload_for_customer(request: web.Request) -> web.Response:
    """Upload."""
    return await _upload(request, documents.Target(object_id(request), _ticket_param(request)))


@api("GET", CUSTOMER + "/documents", "Documents in the customer's record (D2)", "documents",
     query=("limit", "cursor"), paged=True)
async def list_for_customer(request: web.Request) -> web.Response:
    """List."""
    return respond(await run(request, documents.list_for_customer, object_id(request), dict(request.query)))


@api("POST", TICKET + "/documents", f"Upload a document onto a ticket (multipart, field file; at most {_LIMIT_MB} MB)",
     "documents", upload=True)
async def upload_for_ticket(request: web.Request) -> web.Response:
    """Upload."""
    return await _upload(request, documents.Target(ticket_id=object_id(request)))


@api("GET", TICKET + "/documents", "Documents on a ticket", "documents", query=("limit", "cursor"), paged=True)
async def list_for_ticket(request: web.Request) -> web.Response:
    """List."""
    return respond(await run(request, documents.list_for_ticket, object_id(request), dict(request.query)))


@api("GET", r"/documents/{id:\d+}/content", "Download a document (its type, as an attachment)", "documents")
async def download(request: web.Request) -> web.StreamResponse:
    """The bytes, decrypted and verified, after the tenant and ownership checks."""
    digest, filename, mime = await run(request, documents.for_download, object_id(request))
    try:
        data: Any = await asyncio.get_running_loop().run_in_executor(None, request.app[STORE].get, digest)
    except StoreError as exc:
        raise json_error(404, "not_found", f"the document's content is not readable: {exc}") from None
    # Always an attachment: an uploaded HTML or SVG file must never render inside the appliance's origin.
    return web.Response(body=data, content_type=mime, headers={
        "Content-Disposition": content_disposition_header("attachment", filename=filename)})
