"""Who may log in: users and API tokens."""
from __future__ import annotations

import datetime

import peewee

from appliance.models import BaseModel


def utcnow() -> datetime.datetime:
    """Naive UTC now, as stored in the database."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class User(BaseModel):
    """A person who logs in to the web console, desk or API."""

    username = peewee.CharField(max_length=150, unique=True)
    display_name = peewee.CharField(max_length=200, default="")
    password_hash = peewee.CharField(max_length=255)
    role = peewee.CharField(max_length=32, default="agent")
    must_change_password = peewee.BooleanField(default=False)
    active = peewee.BooleanField(default=True)
    failed_logins = peewee.IntegerField(default=0)
    locked_until = peewee.DateTimeField(null=True)
    language = peewee.CharField(max_length=16, default="en")
    created_at = peewee.DateTimeField(default=utcnow)
    password_changed_at = peewee.DateTimeField(null=True)
    # Added by the domain core (0002): the tenant (None only for the system admin), the rights profile,
    # and the staff-directory contact fields.
    tenant = peewee.DeferredForeignKey("Tenant", null=True, on_delete="CASCADE")
    profile = peewee.DeferredForeignKey("Profile", null=True, on_delete="SET NULL")
    email = peewee.CharField(max_length=254, default="")
    phone = peewee.CharField(max_length=32, default="")
    department = peewee.CharField(max_length=100, default="")


class ApiToken(BaseModel):
    """A bearer token: short-lived from login, or long-lived with scopes made by an admin."""

    user = peewee.ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = peewee.CharField(max_length=64, unique=True)  # SHA-256 of the token; the token is never stored
    name = peewee.CharField(max_length=100, default="")
    scopes = peewee.CharField(max_length=500, default="*")
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(null=True)
