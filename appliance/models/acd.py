"""ACD configuration and call history: queues, their versioned scripts, agents' phone profiles, prompts,
and one record per call (B8, B10, B14 as data, B15). Tenant-owned like everything else."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import User, utcnow
from appliance.models.org import Tenant


class AcdQueue(BaseModel):
    """An answer group; `key` is the engine's queue id."""

    tenant = peewee.ForeignKeyField(Tenant, backref="acd_queues", on_delete="CASCADE")
    key = peewee.CharField(max_length=64, unique=True)
    name = peewee.CharField(max_length=150)
    strategy = peewee.CharField(max_length=32, default="longest_idle")
    skills = peewee.TextField(default="{}")  # JSON {skill: min level}
    sl_target_s = peewee.FloatField(default=20.0)
    sl_goal = peewee.FloatField(default=0.8)
    wrap_up_s = peewee.FloatField(default=10.0)
    offer_timeout_s = peewee.FloatField(default=20.0)
    dialled_numbers = peewee.TextField(default="")  # comma-separated numbers that reach this queue
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    calendar = peewee.TextField(default="")  # JSON opening hours, holidays, exceptions (B9); empty: always open
    wrap_up_required = peewee.BooleanField(default=False)  # agents give wrap-up codes before wrap-up ends


class QueueScriptVersion(BaseModel):
    """One saved version of a queue's script; exactly one may be active, and only a valid one."""

    queue = peewee.ForeignKeyField(AcdQueue, backref="script_versions", on_delete="CASCADE")
    version = peewee.IntegerField()
    text = peewee.TextField()
    active = peewee.BooleanField(default=False)
    author = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("queue", "version"), True),)


class AgentPhone(BaseModel):
    """An agent's phone side: extension (1–6 digits, B20), SIP account name (B14), wrap-up, groups."""

    user = peewee.ForeignKeyField(User, unique=True, backref="phone", on_delete="CASCADE")
    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    extension = peewee.CharField(max_length=6, unique=True)
    sip_account = peewee.CharField(max_length=100, default="")
    wrap_up_s = peewee.FloatField(null=True)
    queues = peewee.TextField(default="")  # comma-separated queue keys the agent answers
    hide_caller_numbers = peewee.BooleanField(default=False)  # B19


class CallRecord(BaseModel):
    """The history of one call (B15): who, where it went, how it ended and why."""

    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="SET NULL")
    call_id = peewee.CharField(max_length=100, unique=True)  # unique: a replayed record is not written twice
    direction = peewee.CharField(max_length=16, default="inbound")
    caller = peewee.CharField(max_length=40, default="", index=True)
    dialled = peewee.CharField(max_length=40, default="")
    queue_key = peewee.CharField(max_length=64, default="", index=True)
    agent_id = peewee.CharField(max_length=64, null=True, index=True)
    outcome = peewee.CharField(max_length=32, index=True)
    loss = peewee.CharField(max_length=32, null=True)
    arrived_at = peewee.DateTimeField(index=True)
    wait_s = peewee.FloatField(default=0.0)
    talk_s = peewee.FloatField(default=0.0)
    digits = peewee.CharField(max_length=40, default="")
    survey_score = peewee.IntegerField(null=True)
    notes = peewee.TextField(default="[]")
    decision = peewee.TextField(default="null")  # the routing decision with its candidates (JSON)
    ticket_id = peewee.IntegerField(null=True)  # the phone ticket the call was filed on (B2, B7)
    parties = peewee.TextField(default="[]")  # consultations, transfers, three-ways: who, when, to whom (JSON)


class Prompt(BaseModel):
    """A recorded or uploaded announcement (B10): audio in the document store, per language; hot prompts
    (outage notices) play only while switched on."""

    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")  # None: shared by every tenant
    name = peewee.CharField(max_length=64)
    language = peewee.CharField(max_length=8, default="en")
    digest = peewee.CharField(max_length=64)
    content_type = peewee.CharField(max_length=32)
    duration_s = peewee.FloatField(null=True)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    active_version = peewee.IntegerField(null=True)  # the PromptVersion that plays unless a rule says otherwise

    class Meta:
        indexes = ((("tenant", "name", "language"), True),)


class WrapUpCode(BaseModel):
    """A wrap-up code agents pick after a call: for the whole tenant, or only for one queue."""

    tenant = peewee.ForeignKeyField(Tenant, backref="wrap_up_codes", on_delete="CASCADE")
    queue = peewee.ForeignKeyField(AcdQueue, null=True, on_delete="CASCADE")  # None: every queue of the tenant
    code = peewee.CharField(max_length=32)
    name = peewee.CharField(max_length=100)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant", "code"), True),)


class CallWrapUp(BaseModel):
    """The wrap-up codes (and a short note) one agent gave for one call; an agent who took a call over by
    transfer gives their own."""

    tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
    call_id = peewee.CharField(max_length=100, index=True)
    agent_id = peewee.CharField(max_length=64)
    queue_key = peewee.CharField(max_length=64, default="", index=True)
    codes = peewee.TextField(default="[]")  # JSON list of codes
    note = peewee.CharField(max_length=500, default="")
    created_at = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("call_id", "agent_id"), True),)
