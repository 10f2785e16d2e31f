"""Where the SNMP agent sends its notifications: receivers an admin set up in the console (A3).

Tenant-less: monitoring belongs to whoever runs the box, so only the appliance admin sees these rows.
Communities and SNMPv3 keys are sealed with appliance.security.secrets (never stored in clear).
"""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import utcnow


class TrapReceiver(BaseModel):
    """One notification receiver: v2c with a community, or SNMPv3 authPriv (SHA-256, AES-128)."""

    name = peewee.CharField(max_length=64, unique=True)
    host = peewee.CharField(max_length=253)
    port = peewee.IntegerField(default=162)
    version = peewee.CharField(max_length=8, default="v3")      # v2c, v3
    community_sealed = peewee.TextField(default="")
    v3_user = peewee.CharField(max_length=32, default="")
    auth_sealed = peewee.TextField(default="")
    priv_sealed = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "trap_receiver"
