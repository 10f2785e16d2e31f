"""Text blocks and reply templates (E3–E5): snippets with a shortcut, and whole replies per mailbox and
language, each visible to its owner, a team or the whole tenant."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import User, utcnow
from appliance.models.org import Mailbox, Skill, Team, Tenant

VISIBILITIES = ("personal", "team", "tenant")
CHANNELS = ("mail", "sms", "fax", "letter", "chat")


class TextBlock(BaseModel):
    """A reusable snippet typed as `#shortcut` or picked in the reply editor, in plain text and/or HTML."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    visibility = peewee.CharField(max_length=16, default="tenant")   # personal, team, tenant
    owner = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")           # personal blocks
    team = peewee.ForeignKeyField(Team, null=True, on_delete="CASCADE")            # team blocks (F3)
    shortcut = peewee.CharField(max_length=40)
    title = peewee.CharField(max_length=200)
    body_text = peewee.TextField(default="")
    body_html = peewee.TextField(default="")
    language = peewee.CharField(max_length=16, default="")           # "" for every language
    category = peewee.CharField(max_length=100, default="")          # the folder it is filed in
    channels = peewee.CharField(max_length=100, default="")          # comma-separated; "" for every channel
    skill = peewee.ForeignKeyField(Skill, null=True, on_delete="SET NULL")  # E3: by skill
    active = peewee.BooleanField(default=True)
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "text_block"
        indexes = ((("tenant", "shortcut"), False),)


class ReplyTemplate(BaseModel):
    """A whole reply (salutation, body, signature) for a mailbox and its children, or the whole tenant (E5)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    visibility = peewee.CharField(max_length=16, default="tenant")
    owner = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")
    team = peewee.ForeignKeyField(Team, null=True, on_delete="CASCADE")
    mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="CASCADE")  # None: every mailbox
    name = peewee.CharField(max_length=200)
    language = peewee.CharField(max_length=16, default="")
    channels = peewee.CharField(max_length=100, default="")
    salutation = peewee.TextField(default="")
    body_text = peewee.TextField(default="")
    body_html = peewee.TextField(default="")
    signature = peewee.TextField(default="")
    is_default = peewee.BooleanField(default=False)   # opened with every reply in its mailbox and language
    active = peewee.BooleanField(default=True)
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "reply_template"
        indexes = ((("tenant", "mailbox"), False),)


class ContentImage(BaseModel):
    """A picture for `{{ image.<name> }}` (E4): the tenant's, or a mailbox's and its children's; bytes in the store."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="CASCADE")  # None: every mailbox
    name = peewee.CharField(max_length=40)
    digest = peewee.CharField(max_length=64)
    mime = peewee.CharField(max_length=40)
    size = peewee.IntegerField()
    width = peewee.IntegerField()
    height = peewee.IntegerField()
    alt = peewee.CharField(max_length=200, default="")
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "content_image"
        indexes = ((("tenant", "name"), False), (("tenant", "digest"), False))


class UserProfile(BaseModel):
    """A user's personal signature (text and optional image) and salutation style per language (E4)."""

    user = peewee.ForeignKeyField(User, unique=True, on_delete="CASCADE")
    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")  # the user's tenant, for its images
    signature = peewee.TextField(default="")
    image_digest = peewee.CharField(max_length=64, default="")
    image_mime = peewee.CharField(max_length=40, default="")
    image_width = peewee.IntegerField(default=0)
    image_height = peewee.IntegerField(default=0)
    image_alt = peewee.CharField(max_length=200, default="")
    salutations = peewee.TextField(default="{}")   # JSON {"de": "formal", "en": "informal"}
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "user_profile"
