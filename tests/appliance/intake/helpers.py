"""A migrated database and a small organisation for intake tests."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from appliance.db import Database
from appliance.models import Mailbox, ServiceAddress, Tenant
from appliance.store import DocumentStore


@dataclass
class Org:
    """A tenant with one mailbox and its e-mail service addresses."""

    tenant_id: int
    mailbox_id: int
    addresses: list[str]


def open_db(url: str) -> Database:
    """A migrated database; the caller closes it."""
    db = Database(url)
    with db.peewee.connection_context():
        db.migrate()
    return db


def make_store(tmp: Path) -> DocumentStore:
    """A document store with a random key."""
    return DocumentStore(tmp / "store", os.urandom(32))


def make_org(db: Database, name: str, addresses: list[str], settings: dict | None = None) -> Org:
    """Create a tenant, a mailbox and its addresses."""
    with db.peewee.connection_context(), db.peewee.atomic():
        tenant = Tenant.create(name=name)
        box = Mailbox.create(tenant=tenant, name="Support", settings=json.dumps(settings or {}))
        for a in addresses:
            ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value=a.lower())
    return Org(tenant.id, box.id, [a.lower() for a in addresses])
