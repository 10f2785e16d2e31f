"""Customers: persons and companies, identifiers, addresses, notes/tasks/appointments, documents
(D1–D4, D10, D12, H4)."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import User, utcnow
from appliance.models.org import Team, Tenant


class Customer(BaseModel):
    """A person or a company (B2C and B2B, D10); persons may belong to a company as its contacts."""

    tenant = peewee.ForeignKeyField(Tenant, backref="customers", on_delete="CASCADE")
    kind = peewee.CharField(max_length=16, default="person")  # person, company
    name = peewee.CharField(max_length=200)
    number = peewee.CharField(max_length=64, null=True)  # customer number, normalised
    company = peewee.ForeignKeyField("self", null=True, backref="contacts", on_delete="SET NULL")
    language = peewee.CharField(max_length=16, default="")
    # D4/H4: private (owner only), group (owner's team), enterprise (the whole tenant).
    ownership = peewee.CharField(max_length=16, default="enterprise")
    owner = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    owner_team = peewee.ForeignKeyField(Team, null=True, on_delete="SET NULL")
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant", "number"), True), (("tenant", "name"), False))


class CustomerIdentifier(BaseModel):
    """A normalised way to recognise a customer: phone (E.164), e-mail, customer number, external id."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    customer = peewee.ForeignKeyField(Customer, backref="identifiers", on_delete="CASCADE")
    kind = peewee.CharField(max_length=16)
    value = peewee.CharField(max_length=254)

    class Meta:
        indexes = ((("tenant", "kind", "value"), True),)


class Address(BaseModel):
    """A postal address of a customer."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    customer = peewee.ForeignKeyField(Customer, backref="addresses", on_delete="CASCADE")
    kind = peewee.CharField(max_length=16, default="postal")
    street = peewee.CharField(max_length=200, default="")
    postcode = peewee.CharField(max_length=16, default="")
    city = peewee.CharField(max_length=100, default="")
    country = peewee.CharField(max_length=2, default="")


class Activity(BaseModel):
    """A note, task or appointment on a customer (D12)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    customer = peewee.ForeignKeyField(Customer, backref="activities", on_delete="CASCADE")
    ticket_id = peewee.IntegerField(null=True)
    kind = peewee.CharField(max_length=16)  # note, task, appointment
    text = peewee.TextField(default="")
    due_at = peewee.DateTimeField(null=True)
    ends_at = peewee.DateTimeField(null=True)
    done = peewee.BooleanField(default=False)
    author = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    assignee = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="assigned_activities")
    created_at = peewee.DateTimeField(default=utcnow)


class Document(BaseModel):
    """A document in the encrypted store, filed in a customer's record or on a ticket (D2, H2)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    customer = peewee.ForeignKeyField(Customer, null=True, backref="documents", on_delete="CASCADE")
    ticket_id = peewee.IntegerField(null=True)
    digest = peewee.CharField(max_length=64)  # SHA-256 name in the DocumentStore
    filename = peewee.CharField(max_length=255, default="")
    mime = peewee.CharField(max_length=100, default="application/octet-stream")
    size = peewee.IntegerField(default=0)
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = peewee.DateTimeField(default=utcnow)
