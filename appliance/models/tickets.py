"""Tickets for every channel with their messages, back-office steps, SLA policies and the audit trail
(C7, D13, F8, F9, F12, F15)."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import User, utcnow
from appliance.models.customers import Customer
from appliance.models.org import Category, Mailbox, Skill, Team, Tenant


class SlaPolicy(BaseModel):
    """Response and resolution targets over a business-hours calendar, with escalation steps (F8)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    response_minutes = peewee.IntegerField(default=240)
    resolve_minutes = peewee.IntegerField(default=2400)
    calendar = peewee.TextField(default="{}")  # JSON: {"hours": {"mon": ["08:00","18:00"], …}, "holidays": […]}
    escalations = peewee.TextField(default="[]")  # JSON: [{"at_percent": 80, "action": "notify_lead"}, …]
    active = peewee.BooleanField(default=True)

    class Meta:
        indexes = ((("tenant", "name"), True),)


class Ticket(BaseModel):
    """One ticket model for mail, phone, fax, letter, SMS, chat and internal work (C7)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    subject = peewee.CharField(max_length=300, default="")
    channel = peewee.CharField(max_length=16, default="internal")
    state = peewee.CharField(max_length=16, default="open")
    priority = peewee.IntegerField(default=3)  # 1 most urgent … 5 least
    owner = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    team = peewee.ForeignKeyField(Team, null=True, on_delete="SET NULL")
    mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="SET NULL")
    category = peewee.ForeignKeyField(Category, null=True, on_delete="SET NULL")
    customer = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    sla = peewee.ForeignKeyField(SlaPolicy, null=True, on_delete="SET NULL")
    skill = peewee.ForeignKeyField(Skill, null=True, on_delete="SET NULL")
    min_level = peewee.IntegerField(default=1)
    language = peewee.CharField(max_length=16, default="")  # '' = any language
    due_at = peewee.DateTimeField()  # resolution due; always set so the work queue orders on an index
    response_due_at = peewee.DateTimeField(null=True)
    resubmit_at = peewee.DateTimeField(null=True)
    escalation_level = peewee.IntegerField(default=0)
    master = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="created_tickets")
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    closed_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = (
            # The universal work queue (F15): equality on the first five, then the order it picks in.
            (("tenant", "state", "owner", "skill", "language", "priority", "due_at", "id"), False),
            (("tenant", "customer"), False),
            (("master",), False),
        )


class Message(BaseModel):
    """A message in or out on a ticket, or an internal note; `idempotency_key` stops intake duplicates."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    ticket = peewee.ForeignKeyField(Ticket, backref="messages", on_delete="CASCADE")
    channel = peewee.CharField(max_length=16)
    direction = peewee.CharField(max_length=16, default="in")  # in, out, internal
    kind = peewee.CharField(max_length=16, default="message")
    sender = peewee.CharField(max_length=254, default="")
    recipient = peewee.CharField(max_length=254, default="")
    subject = peewee.CharField(max_length=300, default="")
    body = peewee.TextField(default="")
    source_ref = peewee.CharField(max_length=300, default="")  # spool entry, Message-ID, fax job …
    idempotency_key = peewee.CharField(max_length=200, null=True)
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant", "idempotency_key"), True), (("ticket", "created_at"), False))


class TicketStep(BaseModel):
    """A back-office step inside a ticket's workflow, done by a team in order (F9)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    ticket = peewee.ForeignKeyField(Ticket, backref="steps", on_delete="CASCADE")
    position = peewee.IntegerField()
    name = peewee.CharField(max_length=200)
    team = peewee.ForeignKeyField(Team, null=True, on_delete="SET NULL")
    done_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    done_at = peewee.DateTimeField(null=True)


class AuditEntry(BaseModel):
    """Who changed what, when, from where. Written in the same transaction as the change."""

    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    username = peewee.CharField(max_length=150, default="")
    at = peewee.DateTimeField(default=utcnow)
    action = peewee.CharField(max_length=64)
    object_type = peewee.CharField(max_length=32)
    object_id = peewee.IntegerField(null=True)
    detail = peewee.TextField(default="{}")
    remote = peewee.CharField(max_length=64, default="")

    class Meta:
        indexes = ((("tenant", "at"), False),)
