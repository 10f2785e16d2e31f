"""What callers leave and say: voice messages sent by e-mail (B8, B18), after-call survey answers (B17),
and the versions of catalogue prompts with the rules that activate them (B10)."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.acd import Prompt
from appliance.models.auth import utcnow
from appliance.models.org import Tenant


class VoiceMessage(BaseModel):
    """A recorded message: audio in the document store, filed on a phone ticket, mailed to `to_address`."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    call_id = peewee.CharField(max_length=100, unique=True)  # unique: a replayed call files nothing twice
    queue_key = peewee.CharField(max_length=64, default="")
    caller = peewee.CharField(max_length=40, default="")
    to_address = peewee.CharField(max_length=254)
    digest = peewee.CharField(max_length=64)
    content_type = peewee.CharField(max_length=32, default="audio/wav")
    duration_s = peewee.FloatField(default=0.0)
    size = peewee.IntegerField(default=0)
    ticket_id = peewee.IntegerField(index=True)
    message_id = peewee.IntegerField(index=True)
    outbox_id = peewee.IntegerField(null=True)   # the mail outbox row carrying it
    mail_error = peewee.CharField(max_length=300, default="")  # why no mail was queued
    created_at = peewee.DateTimeField(default=utcnow)


class SurveyAnswer(BaseModel):
    """One answer (a digit) to one question of the after-call survey."""

    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")  # None: the simulator's demo queues
    call_id = peewee.CharField(max_length=100)
    queue_key = peewee.CharField(max_length=64, index=True)
    agent_id = peewee.CharField(max_length=64, null=True, index=True)
    question = peewee.IntegerField()             # 1-based, in the order the script asks
    prompt = peewee.CharField(max_length=64, default="")
    answer = peewee.IntegerField()
    scale_max = peewee.IntegerField(default=5)
    answered_at = peewee.DateTimeField(index=True)

    class Meta:
        indexes = ((("call_id", "question"), True),)


class PromptVersion(BaseModel):
    """One uploaded recording of a prompt (name + language); uploads add versions, none is overwritten."""

    prompt = peewee.ForeignKeyField(Prompt, backref="versions", on_delete="CASCADE")
    version = peewee.IntegerField()
    digest = peewee.CharField(max_length=64)
    content_type = peewee.CharField(max_length=32)
    duration_s = peewee.FloatField(null=True)
    author_id = peewee.IntegerField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("prompt", "version"), True),)


class PromptRule(BaseModel):
    """When another version than the active one plays: in a time window, on holidays, while closed."""

    prompt = peewee.ForeignKeyField(Prompt, backref="rules", on_delete="CASCADE")
    version = peewee.IntegerField()
    kind = peewee.CharField(max_length=16)       # scheduled, holiday, closed
    starts_at = peewee.DateTimeField(null=True)  # UTC
    ends_at = peewee.DateTimeField(null=True)    # UTC; None: from starts_at on
    created_at = peewee.DateTimeField(default=utcnow)


class HotPrompt(BaseModel):
    """A hot prompt (an outage notice, B8/B10) switched on: kept here so a restart keeps what callers hear.
    Switched by name, as queue scripts name them, for one tenant's queues, or (no tenant: by the system
    admin) for every tenant's; for the callers of one language, or (language empty) for every caller;
    a row present means on."""

    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
    name = peewee.CharField(max_length=64)
    language = peewee.CharField(max_length=8, default="")
    by_user_id = peewee.IntegerField(null=True)
    switched_on_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant", "name", "language"), True),)
