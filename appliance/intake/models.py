"""Intake rows kept in the database: the quarantine (raw input itself is in the document store)."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import utcnow
from appliance.models.org import Tenant


class QuarantineEntry(BaseModel):
    """Input that could not become a ticket message: where it came from, why, and when (issue 7 §8)."""

    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")  # None: owner unknown
    channel = peewee.CharField(max_length=16)
    source = peewee.CharField(max_length=300)
    reason = peewee.TextField()
    received_at = peewee.DateTimeField(default=utcnow)
    created_at = peewee.DateTimeField(default=utcnow)
    digest = peewee.CharField(max_length=64)  # the raw input in the DocumentStore
    size = peewee.IntegerField(default=0)
    meta = peewee.TextField(default="{}")  # JSON: the spool entry's metadata (envelope, UID …)
    state = peewee.CharField(max_length=16, default="held")  # held, reprocessed
    attempts = peewee.IntegerField(default=0)
    resolved_at = peewee.DateTimeField(null=True)
    result = peewee.CharField(max_length=300, default="")

    class Meta:
        table_name = "quarantine_entry"
        indexes = ((("state", "id"), False), (("tenant", "id"), False))
