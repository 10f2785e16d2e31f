"""The desk's e-mail replies (C2, E3–E5, issue 7 item 5): files uploaded into the document store and attached,
the template's salutation and signature, sent through the mail outbox with threading headers; the attachments
of every message listed for the timeline and downloadable.

Replies on other channels stay with the workflow's `send` action (routes_desk); this module is the mail path.
"""
from __future__ import annotations

import asyncio
import json
import re
from email.utils import getaddresses
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from appliance.domain import textvars
from appliance.domain.errors import NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.errors import StoreError
from appliance.mail import replies
from appliance.mail.errors import MailError
from appliance.mail.models import MailRecord
from appliance.mail.parse import Attachment
from appliance.models import Document, Message, Ticket
from appliance.models.access import Scope
from appliance.models.access.mail_content import known_pictures, read_pictures
from appliance.models.access.tickets import TicketResource, apply_action
from appliance.webui.keys import STORE
from appliance.webui.routes_acd import STAFF
from appliance.webui.routes_desk import _json_error, _run
from appliance.webui.routes_smime import secret_box
from appliance.webui.security import require_role

routes = web.RouteTableDef()
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024   # one file; relays commonly refuse mails much over 25 MB
REPLY_MAX_BYTES = 25 * 1024 * 1024        # all files of one reply together
REPLY_MAX_FILES = 20
MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
TICKET = r"/desk/tickets/{id:\d+}"

MAIL_REPLY = Schema("mail_reply", (
    Field("text", max_length=100_000), Field("html", "bool"), Field("channel", choices=("mail",)),
    Field("recipient", required=True, max_length=2000, help="one or more addresses, comma-separated"),
    Field("subject", max_length=300, nullable=True), Field("close", "bool"), Field("quote", "bool"),
    Field("salutation", max_length=2000),
    Field("signature", max_length=5000, nullable=True, help="null: the mailbox's signature"),
    Field("signature_html", max_length=20_000, nullable=True,
          help="the template's signature as HTML (with its pictures), for an HTML reply"),
    Field("attachment_ids", "ids", help="documents uploaded to this ticket"),
    Field("idempotency_key", max_length=200, help="one per draft: a repeated send returns the first")))


def recipients_of(text: str) -> list[str]:
    """The addresses of a comma-separated recipient field; ValidationError naming a bad one."""
    if "\r" in text or "\n" in text:
        raise ValidationError({"recipient": "must be on one line"})
    found = [addr for _, addr in getaddresses([text]) if addr]
    bad = [a for a in found if a.count("@") != 1 or not all(a.split("@")) or " " in a]
    if not found or bad:
        raise ValidationError({"recipient": f"is not an e-mail address: {', '.join(bad) or text}"[:300]})
    if len(found) > 50:
        raise ValidationError({"recipient": "at most 50 recipients"})
    return found


def _filename(raw: str | None) -> str:
    """A file name without any folder part or control characters, at most 200 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip().lstrip(".")
    return name[:200] or "attachment"


# ----------------------------------------------------------------------------------------------- uploads
def _file_document(scope: Scope, ticket_id: int, digest: str, filename: str, mime: str, size: int) -> dict[str, Any]:
    scope.require(Perm.TICKETS_WRITE)
    ticket = scope.get(Ticket, ticket_id)
    doc = Document.create(tenant=ticket.tenant_id, customer=ticket.customer_id, ticket_id=ticket.id, digest=digest,
                          filename=filename, mime=mime, size=size,
                          created_by=scope.actor.user_id if scope.actor.tenant_id == ticket.tenant_id else None)
    scope.audit("attachment.upload", ticket, detail={"document_id": doc.id, "filename": filename, "size": size})
    return {"id": doc.id, "filename": filename, "mime": mime, "size": size, "digest": digest}


async def _read_part(part: BodyPartReader) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > ATTACHMENT_MAX_BYTES:
            raise _json_error(400, "validation", "some fields are wrong",
                              fields={"file": f"is larger than {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB"})
    return bytes(data)


@routes.post(TICKET + "/attachments")
@require_role(*STAFF)
async def upload(request: web.Request) -> web.Response:
    """One file (multipart field `file`) into the encrypted document store, filed on the ticket for a reply."""
    ticket_id = int(request.match_info["id"])
    await _run(request, lambda scope: scope.get(Ticket, ticket_id))  # 404 before reading a foreign upload
    if not request.content_type.startswith("multipart/"):
        raise _json_error(400, "validation", "some fields are wrong", fields={"file": "send multipart/form-data"})
    reader = await request.multipart()
    found = None
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "file" and part.filename is not None:
            found = (part.filename, part.headers.get("Content-Type", ""), await _read_part(part))
            break
        if isinstance(part, BodyPartReader):
            await part.release()
    if found is None:
        raise _json_error(400, "validation", "some fields are wrong", fields={"file": "is required"})
    raw_name, raw_mime, data = found
    mime = raw_mime.split(";")[0].strip().lower()
    mime = mime if MIME_TYPE.match(mime) else "application/octet-stream"
    # Encrypting and fsyncing up to 20 MB: off the event loop.
    digest = await asyncio.get_running_loop().run_in_executor(None, request.app[STORE].put, data)
    item = await _run(request, _file_document, ticket_id, digest, _filename(raw_name), mime, len(data))
    return web.json_response(item, status=201)


# ------------------------------------------------------------------------------------------- the mail reply
def _inline_images(html: str, pictures: replies.Pictures) -> list[Any]:
    """The pictures an HTML reply shows, from those read before the transaction; ValidationError for any other."""
    found, missing = replies.pictures_of(html, pictures)
    if missing:
        raise ValidationError({"text": f"image {missing[0][:12]}… is not one of this tenant's images"})
    return found


def _shown_html(raw: Any) -> str:
    """The sanitised HTML (text and HTML signature) a reply body asks to send; "" for a plain-text reply."""
    if not isinstance(raw, dict) or not raw.get("html"):
        return ""
    parts = [raw.get("text"), raw.get("signature_html")]
    return "".join(textvars.sanitise_html(p) for p in parts if isinstance(p, str) and p)


def _known_pictures(scope: Scope, ticket_id: int, html: str) -> dict[str, tuple[str, str]]:
    """(mime, alt) of the ticket tenant's pictures the reply shows: a short read before the reply's transaction."""
    scope.require(Perm.TICKETS_WRITE)
    return known_pictures(scope.get(Ticket, ticket_id).tenant_id, html)


def send_mail_reply(scope: Scope, ticket_id: int, raw: Any, store: Any, box: Any = None,
                    pictures: replies.Pictures | None = None) -> dict[str, Any]:
    """Queue an e-mail reply with the desk's salutation, signature and attachments; the ticket afterwards.

    `box` opens the mailbox's sealed S/MIME key when the mailbox signs its mail (C4); `pictures` are the tenant's
    images the HTML shows, read from the store before this transaction (E4).
    """
    scope.require(Perm.TICKETS_WRITE)
    ticket = scope.get(Ticket, ticket_id, for_update=True)
    data = MAIL_REPLY.validate(raw)
    key = data.get("idempotency_key") or None
    if key and Message.select().where((Message.tenant == ticket.tenant_id) & (Message.idempotency_key == key)).exists():
        return TicketResource().to_json(scope, Ticket.get_by_id(ticket.id))  # sent already: a retry, not a second mail
    to = recipients_of(data["recipient"])
    ids = data.get("attachment_ids") or []
    if len(ids) > REPLY_MAX_FILES:
        raise ValidationError({"attachment_ids": f"at most {REPLY_MAX_FILES} files"})
    docs = {d.id: d for d in scope.query(Document)
            .where(Document.id.in_(ids or [0]) & (Document.ticket_id == ticket.id))}
    missing = [i for i in ids if i not in docs]
    if missing:
        raise ValidationError({"attachment_ids": f"not uploaded to this ticket: {missing}"})
    if sum(docs[i].size for i in ids) > REPLY_MAX_BYTES:
        raise ValidationError({"attachment_ids": f"together larger than {REPLY_MAX_BYTES // (1024 * 1024)} MB"})
    try:
        files = [Attachment(docs[i].filename, docs[i].mime, store.get(docs[i].digest)) for i in ids]
    except StoreError as exc:
        raise ValidationError({"attachment_ids": str(exc)}) from None
    html = textvars.sanitise_html(data.get("text", "")) if data.get("html") else None
    signature_html = textvars.sanitise_html(data["signature_html"]) \
        if html is not None and data.get("signature_html") else None
    inline = _inline_images(html + (signature_html or ""), pictures or {}) if html is not None else []
    text = textvars.html_to_text(html) if html is not None else data.get("text", "")
    if not text.strip() and not files:
        raise ValidationError({"text": "is required (or attach a file)"})
    try:
        queued = replies.queue_reply(ticket.tenant_id, ticket.id, text, user_id=scope.actor.user_id, html=html,
                                     salutation=data.get("salutation", ""), attachments=files, to=to,
                                     quote=data.get("quote", True), signature=data.get("signature") or None,
                                     subject=data.get("subject") or None, box=box, inline=inline,
                                     signature_html=signature_html)
    except MailError as exc:
        raise ValidationError({"recipient": f"cannot send: {exc} (does the ticket's mailbox have an e-mail "
                                            "address?)"}) from None
    refs = [{"digest": docs[i].digest, "filename": docs[i].filename, "mime": docs[i].mime, "size": docs[i].size,
             "document_id": i} for i in ids]
    record = MailRecord.get((MailRecord.ticket == ticket.id) & (MailRecord.header_id == queued.message_id[:300]))
    MailRecord.update(attachments=json.dumps(refs), html=html or "").where(MailRecord.id == record.id).execute()
    if key:
        Message.update(idempotency_key=key).where(Message.id == record.message_id).execute()
    scope.audit("reply.mail", ticket, detail={"outbox_id": queued.outbox_id, "to": to, "attachments": len(ids)})
    if data.get("close"):
        return apply_action(scope, ticket.id, {"action": "done"})
    return TicketResource().to_json(scope, Ticket.get_by_id(ticket.id))


async def mail_reply(request: web.Request, body: Any) -> web.Response:
    """The desk's reply on the mail channel (called by routes_desk.reply)."""
    store, ticket_id, loop = request.app[STORE], int(request.match_info["id"]), asyncio.get_running_loop()
    box = await loop.run_in_executor(None, secret_box, request)
    pictures: dict[str, Any] = {}
    shown = _shown_html(body)
    if shown:  # the pictures: looked up, then read from the (encrypted, maybe slow) store outside the transaction
        known = await _run(request, _known_pictures, ticket_id, shown)
        pictures = await loop.run_in_executor(None, read_pictures, known, store)
    item = await _run(request, send_mail_reply, ticket_id, body, store, box, pictures)
    return web.json_response(item, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str))


# ------------------------------------------------------------------------------------- the timeline's files
def attachments_of(scope: Scope, ticket_id: int) -> dict[str, Any]:
    """Per message of the ticket, its attachments (received or sent); and the files uploaded but not yet sent."""
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    by_message: dict[str, list[dict[str, Any]]] = {}
    for rec in MailRecord.select(MailRecord.message, MailRecord.attachments).where(
            (MailRecord.ticket == ticket.id) & (MailRecord.tenant == ticket.tenant_id)):
        try:
            items = json.loads(rec.attachments or "[]")
        except ValueError:
            continue
        shown = [{"digest": a.get("digest", ""), "filename": a.get("filename", ""), "mime": a.get("mime", ""),
                  "size": a.get("size", 0)} for a in items if isinstance(a, dict) and a.get("digest")]
        if shown:
            by_message[str(rec.message_id)] = shown
    return {"messages": by_message}


@routes.get(TICKET + "/attachments")
@require_role(*STAFF)
async def list_attachments(request: web.Request) -> web.Response:
    """The ticket's attachments by message id."""
    return web.json_response(await _run(request, attachments_of, int(request.match_info["id"])))


def _document_for(scope: Scope, ticket_id: int, digest: str) -> tuple[str, str]:
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    doc = scope.query(Document).where((Document.ticket_id == ticket.id) & (Document.digest == digest)).first()
    if doc is None:
        raise NotFound(f"no attachment {digest[:12]}… on ticket {ticket_id}")
    return doc.filename or "attachment", doc.mime


@routes.get(TICKET + r"/documents/{digest:[0-9a-f]{64}}")
@require_role(*STAFF)
async def download(request: web.Request) -> web.Response:
    """One attachment of the ticket, as a download (never rendered inline: it came from outside)."""
    digest = request.match_info["digest"]
    filename, mime = await _run(request, _document_for, int(request.match_info["id"]), digest)
    try:
        data = await asyncio.get_running_loop().run_in_executor(None, request.app[STORE].get, digest)
    except StoreError as exc:
        raise _json_error(404, "not_found", str(exc)) from None
    # RFC 6266: an ASCII filename= for old clients beside the UTF-8 filename*=
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '\\"' else "_" for c in filename)
    return web.Response(body=data, content_type=mime if MIME_TYPE.match(mime) else "application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename=\"{plain}\"; "
                                                        f"filename*=UTF-8''{quote(filename)}"})
