"""Customers with identifiers, addresses and ownership; identification lookups; contact history;
notes/tasks/appointments; documents (D1–D4, D10, D12, H4)."""
from __future__ import annotations

import re
from typing import Any, Mapping

import peewee

from appliance.domain import identifiers
from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models import (Activity, Address, Customer, CustomerIdentifier, Document, Message, TeamMember,
                              Tenant, Ticket)
from appliance.models.access import documents
from appliance.models.access.resource import Resource, to_jsonable
from appliance.models.access.scope import Page, Scope, limit_param
from appliance.models.auth import utcnow

OWNERSHIP = ("private", "group", "enterprise")
_ID_LISTS = {"phones": "phone", "emails": "email", "external_ids": "external"}
_ADDRESS = Schema("address", (Field("kind", choices=("postal", "billing", "delivery")),
                              Field("street", max_length=200), Field("postcode", max_length=16),
                              Field("city", max_length=100), Field("country", max_length=2)))
_CUSTOMER_FIELDS = (
    Field("name", required=True, max_length=200), Field("tenant_id", "id"),
    Field("kind", choices=("person", "company")), Field("number", max_length=64, nullable=True),
    Field("company_id", "id", nullable=True), Field("language", max_length=16),
    Field("ownership", choices=OWNERSHIP, help="private: owner only; group: owner team; enterprise: all (D4)"),
    Field("owner_id", "id", nullable=True), Field("owner_team_id", "id", nullable=True), Field("active", "bool"),
    Field("phones", "list", max_length=40), Field("emails", "list", max_length=254),
    Field("external_ids", "list", max_length=200), Field("addresses", "any", help="list of address objects"))


class CustomerResource(Resource):
    """Persons and companies (B2C, B2B), visible by ownership."""

    name, model = "customers", Customer
    create_schema = Schema("customer", _CUSTOMER_FIELDS)
    update_schema = Schema("customer_update", tuple(f for f in _CUSTOMER_FIELDS if f.name != "tenant_id"))
    read_perm, write_perm = Perm.CUSTOMERS_READ, Perm.CUSTOMERS_WRITE
    search = ("name", "number")
    filters = ("kind", "ownership", "company_id", "owner_id", "active")
    unique = ("number",)

    def to_json(self, scope: Scope, obj: Any) -> dict[str, Any]:
        out = super().to_json(scope, obj)
        ids = list(CustomerIdentifier.select().where(CustomerIdentifier.customer == obj.id)
                   .order_by(CustomerIdentifier.id))
        for key, kind in _ID_LISTS.items():
            out[key] = [i.value for i in ids if i.kind == kind]
        out["addresses"] = [{"kind": a.kind, "street": a.street, "postcode": a.postcode, "city": a.city,
                             "country": a.country}
                            for a in Address.select().where(Address.customer == obj.id).order_by(Address.id)]
        return out

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        plain = {k: v for k, v in data.items() if k not in _ID_LISTS and k != "addresses"}
        if plain.get("number"):
            try:
                plain["number"] = identifiers.normalise_customer_number(plain["number"])
            except ValueError as exc:
                raise ValidationError({"number": str(exc)}) from None
        elif "number" in plain:
            plain["number"] = None
        if plain.get("company_id") is not None:
            company = scope.ref(Customer, plain["company_id"], "company_id", tenant_id)
            if company.kind != "company" or (obj is not None and company.id == obj.id):
                raise ValidationError({"company_id": "must be another customer of kind company"})
        out = super().values(scope, plain, obj, tenant_id)
        if obj is None:
            out.setdefault("owner", scope.actor.user_id if scope.actor.tenant_id == tenant_id else None)
            if out.get("ownership") == "group" and out.get("owner_team") is None:
                out["owner_team"] = min(scope.actor.team_ids) if scope.actor.team_ids else None
        if obj is None and out.get("ownership") in ("private", "group") and out.get("owner") is None:
            raise ValidationError({"owner_id": "a private or group customer needs an owner"})
        if obj is not None:
            out["updated_at"] = utcnow()
        return out

    def after_save(self, scope: Scope, obj: Any, data: dict[str, Any], created: bool) -> None:
        region = Tenant.get_by_id(obj.tenant_id).region
        wanted = {kind: data[key] for key, kind in _ID_LISTS.items() if key in data}
        if "number" in data:
            wanted["number"] = [obj.number] if obj.number else []
        pairs = identifiers.normalise_all(wanted, region)
        errors = {}
        for kind, value in pairs:
            clash = CustomerIdentifier.get_or_none((CustomerIdentifier.tenant == obj.tenant_id)
                                                   & (CustomerIdentifier.kind == kind)
                                                   & (CustomerIdentifier.value == value)
                                                   & (CustomerIdentifier.customer != obj.id))
            if clash is not None:
                key = next(k for k, v in _ID_LISTS.items() if v == kind) if kind != "number" else "number"
                errors[key] = f"{value} already identifies another customer"
        if errors:
            raise ValidationError(errors)
        for kind in wanted:
            CustomerIdentifier.delete().where((CustomerIdentifier.customer == obj.id)
                                              & (CustomerIdentifier.kind == kind)).execute()
        for kind, value in pairs:
            CustomerIdentifier.create(tenant=obj.tenant_id, customer=obj.id, kind=kind, value=value)
        if "addresses" in data:
            rows = data["addresses"]
            if not isinstance(rows, list) or len(rows) > 20:
                raise ValidationError({"addresses": "must be a list of at most 20 address objects"})
            cleaned = []
            for i, row in enumerate(rows):
                try:
                    cleaned.append(_ADDRESS.validate(row))
                except ValidationError as exc:
                    raise ValidationError({f"addresses[{i}].{k}": v for k, v in exc.fields.items()}) from None
            Address.delete().where(Address.customer == obj.id).execute()
            for row in cleaned:
                Address.create(tenant=obj.tenant_id, customer=obj.id, **row)

    def base_query(self, scope: Scope) -> peewee.ModelSelect:
        return scope.query(Customer)

    def list(self, scope: Scope, params: Mapping[str, str]) -> Page:
        """Search also finds customers by any identifier (phone, e-mail, number) in normalised form."""
        text = params.get("q", "")
        if text and len(text) <= 200:
            found = self._by_identifier(scope, text)
            if found:
                scope.require(self.read_perm)
                q = scope.query(Customer).where(Customer.id.in_(found))
                page = scope.page(q, Customer, params.get("limit"), params.get("cursor"))
                page.items = [self.to_json(scope, o) for o in page.items]
                return page
        return super().list(scope, params)

    @staticmethod
    def _by_identifier(scope: Scope, text: str) -> list[int]:
        region = Tenant.get_by_id(scope.actor.tenant_id).region if scope.actor.tenant_id else "DE"
        for kind in ("email", "phone", "number"):
            if kind == "phone" and not re.fullmatch(r"[+0-9 ()/.-]{3,40}", text):
                continue
            try:
                value = identifiers.normalise(kind, text, region)
            except ValueError:
                continue
            ids = local_lookup(scope, kind, value)
            if ids:
                return ids
        return []


def local_lookup(scope: Scope, kind: str, value: str) -> list[int]:
    """Customers of the actor's tenant visible to the actor with this normalised identifier."""
    q = (scope.query(Customer, Customer.id).join(CustomerIdentifier)
         .where((CustomerIdentifier.kind == kind) & (CustomerIdentifier.value == value)
                & (CustomerIdentifier.tenant == Customer.tenant)))
    return sorted({c.id for c in q})


def history(scope: Scope, customer_id: int, params: Mapping[str, str]) -> Page:
    """Every contact with the customer across all channels (D1) and the documents in the record (D2), oldest
    first, as far as the actor's role may see (F1). The cursor `<message id>.<document id>` pages both."""
    scope.require(Perm.CUSTOMERS_READ)
    customer = scope.get(Customer, customer_id)
    after_message, after_document = _history_cursor(params.get("cursor"))
    limit = limit_param(params.get("limit"))
    q = (Message.select(Message, Ticket).join(Ticket)
         .where((Ticket.customer == customer.id) & (Ticket.tenant == customer.tenant_id)
                & (Message.tenant == customer.tenant_id)))
    q = _visible_tickets(scope, q)
    messages = list(q.where(Message.id > after_message).order_by(Message.id).limit(limit + 1))
    docs = list(scope.query(Document).where((Document.customer == customer.id) & (Document.id > after_document))
                .order_by(Document.id).limit(limit + 1))
    # Merge the two id-ordered streams by time; each stream is consumed in its own order, so the cursor
    # (the last id taken from each) never skips a row even when ids and times disagree.
    items: list[dict[str, Any]] = []
    i = j = 0
    last_message, last_document = after_message, after_document
    while len(items) < limit and (i < len(messages) or j < len(docs)):
        if j >= len(docs) or (i < len(messages) and messages[i].created_at <= docs[j].created_at):
            items.append(_history_message(messages[i]))
            last_message, i = messages[i].id, i + 1
        else:
            items.append(_history_document(docs[j]))
            last_document, j = docs[j].id, j + 1
    more = i < len(messages) or j < len(docs)
    return Page(items, f"{last_message}.{last_document}" if more else None)


def _visible_tickets(scope: Scope, q: peewee.ModelSelect) -> peewee.ModelSelect:
    if scope.can(Perm.HISTORY_ALL):
        return q
    mine = (Ticket.owner == scope.actor.user_id) | (Ticket.created_by == scope.actor.user_id)
    teams = sorted(scope.actor.team_ids)
    if teams:
        mine |= Ticket.team.in_(teams)
        if scope.can(Perm.HISTORY_TEAM):
            mates = TeamMember.select(TeamMember.user).where(TeamMember.team.in_(teams))
            mine |= Ticket.owner.in_(mates)
    return q.where(mine)


def _history_cursor(raw: Any) -> tuple[int, int]:
    """`<message id>.<document id>`; a bare number is a message id (the cursor before documents joined)."""
    if raw in (None, ""):
        return 0, 0
    match = re.fullmatch(r"(\d{1,18})(?:\.(\d{1,18}))?", str(raw))
    if match is None:
        raise ValidationError({"cursor": "must be the `next` value of the previous page"})
    return int(match.group(1)), int(match.group(2) or 0)


def _history_message(m: Message) -> dict[str, Any]:
    return {"type": "message", "id": m.id, "ticket_id": m.ticket.id, "channel": m.channel,
            "direction": m.direction, "kind": m.kind, "subject": m.subject or m.ticket.subject,
            "at": to_jsonable(m.created_at), "excerpt": m.body[:200]}


def _history_document(d: Document) -> dict[str, Any]:
    return {**documents.document_json(d), "type": "document", "at": to_jsonable(d.created_at)}


ACTIVITY_SCHEMA = Schema("activity", (
    Field("kind", required=True, choices=("note", "task", "appointment")), Field("text", max_length=20000),
    Field("due_at", "datetime", nullable=True), Field("ends_at", "datetime", nullable=True),
    Field("done", "bool"), Field("assignee_id", "id", nullable=True), Field("ticket_id", "id", nullable=True)))
ACTIVITY_UPDATE = Schema("activity_update", tuple(f for f in ACTIVITY_SCHEMA.fields if f.name != "kind"))


def _activity_json(a: Activity) -> dict[str, Any]:
    return {"id": a.id, "customer_id": a.customer_id, "ticket_id": a.ticket_id, "kind": a.kind, "text": a.text,
            "due_at": to_jsonable(a.due_at), "ends_at": to_jsonable(a.ends_at), "done": a.done,
            "author_id": a.author_id, "assignee_id": a.assignee_id, "created_at": to_jsonable(a.created_at)}


def add_activity(scope: Scope, customer_id: int, raw: Any) -> dict[str, Any]:
    """A note, task or appointment on a customer (D12)."""
    scope.require(Perm.CUSTOMERS_WRITE)
    customer = scope.get(Customer, customer_id)
    data = ACTIVITY_SCHEMA.validate(raw)
    _check_activity(scope, data, customer.tenant_id)
    obj = Activity.create(tenant=customer.tenant_id, customer=customer.id, author=scope.actor.user_id,
                          ticket_id=data.get("ticket_id"), kind=data["kind"], text=data.get("text", ""),
                          due_at=data.get("due_at"), ends_at=data.get("ends_at"), done=data.get("done", False),
                          assignee=data.get("assignee_id"))
    scope.audit("create", obj, detail=data)
    return _activity_json(obj)


def update_activity(scope: Scope, customer_id: int, activity_id: int, raw: Any) -> dict[str, Any]:
    """Change a note, task or appointment (e.g. mark a task done)."""
    scope.require(Perm.CUSTOMERS_WRITE)
    customer = scope.get(Customer, customer_id)
    obj = scope.get(Activity, activity_id)
    if obj.customer_id != customer.id:
        raise ValidationError({"activity_id": "belongs to another customer"})
    data = ACTIVITY_UPDATE.validate(raw, partial=True)
    _check_activity(scope, data, customer.tenant_id)
    changes = {("assignee" if k == "assignee_id" else k): v for k, v in data.items()}
    if changes:
        Activity.update(**changes).where(Activity.id == obj.id).execute()
    scope.audit("update", obj, detail=data)
    return _activity_json(Activity.get_by_id(obj.id))


def _check_activity(scope: Scope, data: dict[str, Any], tenant_id: int) -> None:
    scope.ref_user(data.get("assignee_id"), "assignee_id", tenant_id)
    scope.ref(Ticket, data.get("ticket_id"), "ticket_id", tenant_id)
    if data.get("due_at") and data.get("ends_at") and data["ends_at"] < data["due_at"]:
        raise ValidationError({"ends_at": "must not be before due_at"})


def list_activities(scope: Scope, customer_id: int, params: Mapping[str, str]) -> Page:
    """A customer's notes, tasks and appointments."""
    scope.require(Perm.CUSTOMERS_READ)
    customer = scope.get(Customer, customer_id)
    q = scope.query(Activity).where(Activity.customer == customer.id)
    if params.get("kind"):
        q = q.where(Activity.kind == params["kind"])
    page = scope.page(q, Activity, params.get("limit"), params.get("cursor"))
    page.items = [_activity_json(a) for a in page.items]
    return page


# The customer's documents (D2), kept in their own module with uploads and downloads.
list_documents = documents.list_for_customer
