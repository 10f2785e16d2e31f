"""Fax rows: what each received fax brought (documents, per-page status) and the outbox of faxes to send."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import utcnow


class FaxRecord(BaseModel):
    """A received fax filed on a ticket message: TIFF (as received), PDF and first-page preview in the store."""

    tenant_id = peewee.IntegerField(index=True)
    message_id = peewee.IntegerField(index=True)
    ticket_id = peewee.IntegerField(index=True)
    modem = peewee.CharField(max_length=64)
    called = peewee.CharField(max_length=40, default="")
    remote_id = peewee.CharField(max_length=40, default="")
    pages = peewee.IntegerField(default=0)
    page_status = peewee.TextField(default="[]")  # JSON list: MCF, RTP, RTN, PARTIAL …
    tiff = peewee.CharField(max_length=64)
    pdf = peewee.CharField(max_length=64)
    preview = peewee.CharField(max_length=64, default="")
    complete = peewee.BooleanField(default=True)
    received_at = peewee.DateTimeField(default=utcnow)


class FaxOutbox(BaseModel):
    """A fax to send: outbox row first, then sending with retries and back-off, then the report (DESIGN)."""

    tenant_id = peewee.IntegerField(null=True, index=True)
    ticket_id = peewee.IntegerField(null=True, index=True)
    number = peewee.CharField(max_length=40)
    document = peewee.CharField(max_length=64)  # the PDF or image in the store
    state = peewee.CharField(max_length=16, default="queued", index=True)  # queued, sending, sent, failed
    attempts = peewee.IntegerField(default=0)
    next_at = peewee.DateTimeField(default=utcnow, index=True)
    last_error = peewee.CharField(max_length=300, default="")
    report = peewee.TextField(default="{}")  # JSON transmission report
    created_at = peewee.DateTimeField(default=utcnow)
    sent_at = peewee.DateTimeField(null=True)
