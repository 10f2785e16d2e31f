"""Organisation of a tenant: tenants, profiles, teams, skills, mailboxes, service addresses, categories,
the staff directory (F1–F7, F14, C3, B7, G4, D7). Every tenant-owned row carries `tenant`."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import User, utcnow


class Tenant(BaseModel):
    """One company served by the appliance (F7); its rows are invisible to every other tenant."""

    name = peewee.CharField(max_length=150, unique=True)
    region = peewee.CharField(max_length=2, default="DE")  # default country for national phone numbers
    timezone = peewee.CharField(max_length=64, default="Europe/Berlin")
    lookup_url = peewee.CharField(max_length=500, default="")  # external identification hook (D3)
    lookup_timeout_ms = peewee.IntegerField(default=1500)
    lookup_sql_dsn = peewee.CharField(max_length=500, default="")  # or the hook over SQL: sqlite:/// or postgresql://
    lookup_sql_query = peewee.TextField(default="")  # one SELECT with :number, :email, :customer_no
    lookup_sql_map = peewee.TextField(default="{}")  # JSON: result column → customer field
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)


class Profile(BaseModel):
    """A rights profile; a child never has more rights than its parent (F4: rights set from above)."""

    tenant = peewee.ForeignKeyField(Tenant, backref="profiles", on_delete="CASCADE")
    parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    name = peewee.CharField(max_length=100)
    rights = peewee.TextField(default="")  # comma-separated permission names
    active = peewee.BooleanField(default=True)

    class Meta:
        indexes = ((("tenant", "name"), True),)


class Team(BaseModel):
    """A hierarchical (org chart) or functional (cross-cutting) team with its own settings (F2, F3)."""

    tenant = peewee.ForeignKeyField(Tenant, backref="teams", on_delete="CASCADE")
    parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    name = peewee.CharField(max_length=100)
    kind = peewee.CharField(max_length=16, default="hierarchical")
    settings = peewee.TextField(default="{}")  # JSON: text blocks, forward targets … (F3)
    active = peewee.BooleanField(default=True)

    class Meta:
        indexes = ((("tenant", "name"), True),)


class TeamMember(BaseModel):
    """A user's membership of a team."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    team = peewee.ForeignKeyField(Team, backref="members", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    lead = peewee.BooleanField(default=False)

    class Meta:
        indexes = ((("team", "user"), True),)


class Skill(BaseModel):
    """A skill or a language skill (kind 'language', code an ISO 639-1 code) used to assign work (F6, F14)."""

    tenant = peewee.ForeignKeyField(Tenant, backref="skills", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    kind = peewee.CharField(max_length=16, default="skill")
    code = peewee.CharField(max_length=16, default="")
    active = peewee.BooleanField(default=True)

    class Meta:
        indexes = ((("tenant", "name"), True),)


class UserSkill(BaseModel):
    """How well a user masters a skill, 1 (basic) to 5 (expert)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="skills", on_delete="CASCADE")
    skill = peewee.ForeignKeyField(Skill, backref="holders", on_delete="CASCADE")
    level = peewee.IntegerField(default=1)

    class Meta:
        indexes = ((("user", "skill"), True),)


class Mailbox(BaseModel):
    """A mailbox; settings not set here are inherited from the parent (F5)."""

    tenant = peewee.ForeignKeyField(Tenant, backref="mailboxes", on_delete="CASCADE")
    parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    name = peewee.CharField(max_length=100)
    settings = peewee.TextField(default="{}")
    active = peewee.BooleanField(default=True)

    class Meta:
        indexes = ((("tenant", "name"), True),)


class ServiceAddress(BaseModel):
    """An address or number a mailbox serves (C3, B7); unique across tenants so intake finds one owner."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    mailbox = peewee.ForeignKeyField(Mailbox, backref="addresses", on_delete="CASCADE")
    kind = peewee.CharField(max_length=16)  # email, phone, fax, sms
    value = peewee.CharField(max_length=254)  # normalised: lower-case e-mail, E.164 number

    class Meta:
        indexes = ((("kind", "value"), True),)


class Category(BaseModel):
    """A category for closing messages, at most ten levels deep (G4)."""

    tenant = peewee.ForeignKeyField(Tenant, backref="categories", on_delete="CASCADE")
    parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    name = peewee.CharField(max_length=100)
    depth = peewee.IntegerField(default=1)
    active = peewee.BooleanField(default=True)


class StaffEntry(BaseModel):
    """An entry of the staff directory: departments and people, with or without a login (D7)."""

    tenant = peewee.ForeignKeyField(Tenant, backref="staff", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    name = peewee.CharField(max_length=200)
    department = peewee.CharField(max_length=100, default="")
    title = peewee.CharField(max_length=100, default="")
    phone = peewee.CharField(max_length=32, default="")
    email = peewee.CharField(max_length=254, default="")
    active = peewee.BooleanField(default=True)
