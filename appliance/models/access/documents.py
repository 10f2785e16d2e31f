"""Documents in a customer's record and on tickets (D2): filing an uploaded file's store reference, listing,
and the checks before a download (tenant, the customer's ownership, the role's rights).

The bytes live encrypted in the document store; these functions see only its SHA-256 names. An upload is
always a new row made by the uploader: nobody can file a reference to bytes they did not send.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from appliance.domain.errors import NotFound, ValidationError
from appliance.domain.permissions import Perm
from appliance.models import Customer, Document, Ticket
from appliance.models.access.resource import to_jsonable
from appliance.models.access.scope import Page, Scope

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
DOWNLOAD = "/api/v1/documents/{id}/content"


def clean_filename(raw: str | None) -> str:
    """A file name without folders or control characters, at most 200 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip().lstrip(".")
    return name[:200] or "document"


def clean_mime(raw: str | None) -> str:
    """A media type as the uploader declared it, or application/octet-stream when it is not one."""
    mime = (raw or "").split(";")[0].strip().lower()
    return mime if MIME_TYPE.match(mime) else "application/octet-stream"


def document_json(d: Document) -> dict[str, Any]:
    """The API form of a document, with its download path."""
    return {"id": d.id, "tenant_id": d.tenant_id, "customer_id": d.customer_id, "ticket_id": d.ticket_id,
            "digest": d.digest, "filename": d.filename, "mime": d.mime, "size": d.size,
            "created_by_id": d.created_by_id, "created_at": to_jsonable(d.created_at),
            "download": DOWNLOAD.format(id=d.id)}


@dataclass(frozen=True)
class Target:
    """Where an upload goes: a customer's record, a ticket, or a ticket within a customer's record."""

    customer_id: int | None = None
    ticket_id: int | None = None


def check_target(scope: Scope, target: Target) -> tuple[int, int | None, int | None]:
    """(tenant, customer, ticket) of a target the actor may file into; NotFound/Forbidden/ValidationError."""
    customer = ticket = None
    if target.customer_id is not None:
        scope.require(Perm.CUSTOMERS_WRITE)
        customer = scope.get(Customer, target.customer_id)
    if target.ticket_id is not None:
        scope.require(Perm.TICKETS_WRITE)
        if customer is None:
            ticket = scope.get(Ticket, target.ticket_id)
        else:
            ticket = scope.ref(Ticket, target.ticket_id, "ticket_id", customer.tenant_id)
            if ticket.customer_id not in (None, customer.id):
                raise ValidationError({"ticket_id": "belongs to another customer"})
    if customer is None and ticket is None:
        raise NotFound("no customer or ticket")
    tenant_id = customer.tenant_id if customer is not None else ticket.tenant_id
    # A ticket's document is also in its customer's record (D1, D2) when the actor may see that customer.
    customer_id = customer.id if customer is not None else _visible_customer(scope, ticket.customer_id)
    return tenant_id, customer_id, ticket.id if ticket is not None else None


def _visible_customer(scope: Scope, customer_id: int | None) -> int | None:
    if customer_id is None:
        return None
    return customer_id if scope.query(Customer).where(Customer.id == customer_id).exists() else None


def file_upload(scope: Scope, target: Target, digest: str, filename: str, mime: str, size: int) -> dict[str, Any]:
    """Record an uploaded file (already in the store) in the record or on the ticket, audited."""
    tenant_id, customer_id, ticket_id = check_target(scope, target)
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationError({"file": f"is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"})
    doc = Document.create(tenant=tenant_id, customer=customer_id, ticket_id=ticket_id, digest=digest,
                          filename=clean_filename(filename), mime=clean_mime(mime), size=size,
                          created_by=scope.actor.user_id if scope.actor.tenant_id == tenant_id else None)
    scope.audit("document.upload", doc, detail={"customer_id": customer_id, "ticket_id": ticket_id,
                                                "filename": doc.filename, "size": size})
    return document_json(doc)


def list_for_customer(scope: Scope, customer_id: int, params: Mapping[str, str]) -> Page:
    """A customer's documents, their tickets' included."""
    scope.require(Perm.CUSTOMERS_READ)
    customer = scope.get(Customer, customer_id)
    page = scope.page(scope.query(Document).where(Document.customer == customer.id), Document,
                      params.get("limit"), params.get("cursor"))
    page.items = [document_json(d) for d in page.items]
    return page


def list_for_ticket(scope: Scope, ticket_id: int, params: Mapping[str, str]) -> Page:
    """A ticket's documents."""
    scope.require(Perm.TICKETS_READ)
    ticket = scope.get(Ticket, ticket_id)
    q = scope.query(Document).where(Document.ticket_id == ticket.id)
    # Ownership reaches documents too: a private customer's file stays with the customer's owner.
    q = q.where(Document.customer.is_null() | Document.customer.in_(scope.query(Customer, Customer.id)))
    page = scope.page(q, Document, params.get("limit"), params.get("cursor"))
    page.items = [document_json(d) for d in page.items]
    return page


def for_download(scope: Scope, document_id: int) -> tuple[str, str, str]:
    """(digest, filename, mime) of a document the actor may read; NotFound for foreign and hidden ones alike."""
    doc = scope.get(Document, document_id)
    if doc.customer_id is not None:
        scope.require(Perm.CUSTOMERS_READ)
        if not scope.query(Customer).where(Customer.id == doc.customer_id).exists():
            raise NotFound(f"no document {document_id}")
    if doc.ticket_id is not None:
        scope.require(Perm.TICKETS_READ)
    if doc.customer_id is None and doc.ticket_id is None:
        scope.require(Perm.CUSTOMERS_READ)
    scope.audit("document.download", doc)
    return doc.digest, doc.filename, doc.mime
