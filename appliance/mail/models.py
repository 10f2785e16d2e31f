"""Mail rows: accounts fetched over IMAP/POP3, per-message mail details, the outbox, S/MIME material."""
from __future__ import annotations

import peewee

from appliance.models import BaseModel
from appliance.models.auth import utcnow
from appliance.models.org import Mailbox, Tenant
from appliance.models.tickets import Message, Ticket


class MailAccount(BaseModel):
    """A remote mailbox the appliance fetches from, bound to one of its mailboxes (C3)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    mailbox = peewee.ForeignKeyField(Mailbox, on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    protocol = peewee.CharField(max_length=8, default="imap")       # imap, pop3
    host = peewee.CharField(max_length=253)
    port = peewee.IntegerField()
    security = peewee.CharField(max_length=16, default="tls")       # tls (implicit), starttls
    ca_file = peewee.CharField(max_length=500, default="")          # empty: the system trust store
    pin_sha256 = peewee.CharField(max_length=100, default="")       # set: trust exactly this certificate
    username = peewee.CharField(max_length=254)
    password = peewee.CharField(max_length=500, default="")  # legacy plain text: sealed at start, then ""
    password_sealed = peewee.TextField(default="")           # SecretBox, purpose appliance.mail.credentials
    folder = peewee.CharField(max_length=200, default="INBOX")
    poll_s = peewee.IntegerField(default=60)
    use_idle = peewee.BooleanField(default=True)
    active = peewee.BooleanField(default=True)
    last_fetch_at = peewee.DateTimeField(null=True)
    last_ok_at = peewee.DateTimeField(null=True)
    last_error = peewee.TextField(default="")
    last_error_at = peewee.DateTimeField(null=True)
    fetched_total = peewee.IntegerField(default=0)
    kind = peewee.CharField(max_length=16, default="mail")          # mail, or sms-gateway (C10: mail to SMS)
    sms_number = peewee.CharField(max_length=32, default="")         # sms-gateway: our service number, E.164
    sms_sender_regex = peewee.CharField(max_length=200, default="")  # sms-gateway: '' = the From local part

    class Meta:
        table_name = "mail_account"
        indexes = ((("tenant", "name"), True),)


class MailRecord(BaseModel):
    """Mail-specific detail of a ticket message: ids for threading, sanitised HTML, the original."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    message = peewee.ForeignKeyField(Message, unique=True, on_delete="CASCADE")
    ticket = peewee.ForeignKeyField(Ticket, on_delete="CASCADE")
    direction = peewee.CharField(max_length=8, default="in")
    mid_hash = peewee.CharField(max_length=64)       # SHA-256 of the normalised Message-ID
    header_id = peewee.CharField(max_length=300, default="")  # the Message-ID header, without <>
    html = peewee.TextField(default="")               # sanitised for display
    raw = peewee.BlobField(null=True)                 # the original as received or sent
    smime = peewee.CharField(max_length=200, default="")  # e.g. "signed: valid (alice@…)"
    spam_score = peewee.FloatField(null=True)
    flags = peewee.CharField(max_length=200, default="")  # auto-submitted, bulk, flood, dsn …
    attachments = peewee.TextField(default="[]")      # JSON: [{"digest","filename","mime","size","cid"}]

    class Meta:
        table_name = "mail_record"
        indexes = ((("tenant", "mid_hash"), False),)


class MailOutbox(BaseModel):
    """A mail to send: the row is written first, then sent with retries and back-off, then marked."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    ticket = peewee.ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
    kind = peewee.CharField(max_length=16, default="reply")  # reply, auto_reply
    mail_from = peewee.CharField(max_length=254)
    rcpt_to = peewee.TextField()                     # JSON list
    raw = peewee.BlobField()
    state = peewee.CharField(max_length=16, default="queued")  # queued, sent, failed
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = peewee.DateTimeField(default=utcnow)
    last_error = peewee.TextField(default="")
    created_at = peewee.DateTimeField(default=utcnow)
    sent_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "mail_outbox"
        indexes = ((("state", "next_attempt_at"), False),)


class SmimeCredential(BaseModel):
    """A mailbox's own S/MIME key and certificate, or a correspondent's certificate (C4)."""

    tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
    mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="CASCADE")  # set: our own key
    email = peewee.CharField(max_length=254)
    cert_pem = peewee.TextField()
    key_pem = peewee.TextField(default="")           # legacy plain text: sealed at start, then ""
    key_sealed = peewee.TextField(default="")        # our own mailboxes' private key (PKCS #8 PEM), sealed
    trusted = peewee.BooleanField(default=False)     # a CA or correspondent certificate to trust
    source = peewee.CharField(max_length=16, default="upload")  # upload, or learned (from a signed mail)
    sha256 = peewee.CharField(max_length=64, default="")        # certificate fingerprint, hex
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "smime_credential"
        indexes = ((("tenant", "email"), False),)
