"""SMS rows: parts of concatenated messages waiting for the rest, the outbox, and each sent part's report."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import utcnow
from appliance.models.org import Tenant
from appliance.models.tickets import Message, Ticket


class SmsPart(BaseModel):
    """One received part of a concatenated SMS (TS 23.040 §9.2.3.24.1), kept until its set is complete.

    Parts live in the database rather than in memory so that a restart neither loses a half-received
    message nor needs the SIM to keep it: the spool entry of a part is done once its row is written.
    """

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    set_key = peewee.CharField(max_length=200)      # sender, concatenation reference, total, width
    sequence = peewee.IntegerField()
    total = peewee.IntegerField()
    digest = peewee.CharField(max_length=64, unique=True)  # SHA-256 of the raw PDU: a replay is a no-op
    raw = peewee.BlobField()
    modem = peewee.CharField(max_length=64, default="")
    number = peewee.CharField(max_length=32, default="")   # the service number that received it
    received_at = peewee.DateTimeField(default=utcnow)
    state = peewee.CharField(max_length=16, default="held")  # held, joined, expired
    message = peewee.ForeignKeyField(Message, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "sms_part"
        indexes = ((("set_key", "state"), False), (("state", "received_at"), False))


class SmsOutbox(BaseModel):
    """An SMS to send: the row first, then the modem with retries and back-off, then the status reports."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    ticket = peewee.ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    message = peewee.ForeignKeyField(Message, null=True, unique=True, on_delete="SET NULL")
    kind = peewee.CharField(max_length=16, default="reply")   # reply, notification
    to_number = peewee.CharField(max_length=32)
    from_number = peewee.CharField(max_length=32, default="")  # preferred service number ('' any modem)
    text = peewee.TextField()
    state = peewee.CharField(max_length=16, default="queued")  # queued, sent, delivered, failed, undeliverable
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = peewee.DateTimeField(default=utcnow)
    last_error = peewee.TextField(default="")
    modem = peewee.CharField(max_length=64, default="")
    parts = peewee.IntegerField(default=0)
    idempotency_key = peewee.CharField(max_length=200, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    sent_at = peewee.DateTimeField(null=True)
    status_at = peewee.DateTimeField(null=True)
    gateway_id = peewee.CharField(max_length=150, null=True, index=True)  # the HTTP gateway's id for its reports

    class Meta:
        table_name = "sms_outbox"
        indexes = ((("state", "next_attempt_at"), False), (("tenant", "idempotency_key"), True),
                   (("tenant", "id"), False))


class SmsSentPart(BaseModel):
    """One SMS-SUBMIT the network accepted, found again by its TP-MR when the status report comes."""

    outbox = peewee.ForeignKeyField(SmsOutbox, backref="sent_parts", on_delete="CASCADE")
    modem = peewee.CharField(max_length=64)
    reference = peewee.IntegerField()               # TP-MR (TS 23.040 §9.2.3.6), 0..255
    part = peewee.IntegerField()
    sent_at = peewee.DateTimeField(default=utcnow)
    status = peewee.IntegerField(null=True)         # TP-ST of the last report (§9.2.3.15)
    final = peewee.BooleanField(default=False)
    reported_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "sms_sent_part"
        indexes = ((("modem", "reference", "sent_at"), False),)
