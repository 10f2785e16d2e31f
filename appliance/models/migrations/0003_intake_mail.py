"""Intake quarantine and the mail channel: accounts, mail records, outbox, S/MIME credentials.
Frozen copies of the models, independent of later model changes."""
import datetime

import peewee


def up(migrator, db):
    def stub(name):
        class Meta:
            database = db
            table_name = name
        return type(name.title().replace("_", ""), (peewee.Model,), {"Meta": Meta})

    Tenant, Mailbox, Ticket, Message = stub("tenant"), stub("mailbox"), stub("ticket"), stub("message")
    now = datetime.datetime.utcnow

    class QuarantineEntry(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
        channel = peewee.CharField(max_length=16)
        source = peewee.CharField(max_length=300)
        reason = peewee.TextField()
        received_at = peewee.DateTimeField(default=now)
        created_at = peewee.DateTimeField(default=now)
        digest = peewee.CharField(max_length=64)
        size = peewee.IntegerField(default=0)
        meta = peewee.TextField(default="{}")
        state = peewee.CharField(max_length=16, default="held")
        attempts = peewee.IntegerField(default=0)
        resolved_at = peewee.DateTimeField(null=True)
        result = peewee.CharField(max_length=300, default="")

        class Meta:
            database = db
            table_name = "quarantine_entry"
            indexes = ((("state", "id"), False), (("tenant", "id"), False))

    class MailAccount(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        mailbox = peewee.ForeignKeyField(Mailbox, on_delete="CASCADE")
        name = peewee.CharField(max_length=100)
        protocol = peewee.CharField(max_length=8, default="imap")
        host = peewee.CharField(max_length=253)
        port = peewee.IntegerField()
        security = peewee.CharField(max_length=16, default="tls")
        ca_file = peewee.CharField(max_length=500, default="")
        pin_sha256 = peewee.CharField(max_length=100, default="")
        username = peewee.CharField(max_length=254)
        password = peewee.CharField(max_length=500)
        folder = peewee.CharField(max_length=200, default="INBOX")
        poll_s = peewee.IntegerField(default=60)
        use_idle = peewee.BooleanField(default=True)
        active = peewee.BooleanField(default=True)
        last_fetch_at = peewee.DateTimeField(null=True)
        last_ok_at = peewee.DateTimeField(null=True)
        last_error = peewee.TextField(default="")
        last_error_at = peewee.DateTimeField(null=True)
        fetched_total = peewee.IntegerField(default=0)

        class Meta:
            database = db
            table_name = "mail_account"
            indexes = ((("tenant", "name"), True),)

    class MailRecord(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        message = peewee.ForeignKeyField(Message, unique=True, on_delete="CASCADE")
        ticket = peewee.ForeignKeyField(Ticket, on_delete="CASCADE")
        direction = peewee.CharField(max_length=8, default="in")
        mid_hash = peewee.CharField(max_length=64)
        header_id = peewee.CharField(max_length=300, default="")  # the Message-ID header, without <>
        html = peewee.TextField(default="")
        raw = peewee.BlobField(null=True)
        smime = peewee.CharField(max_length=200, default="")
        spam_score = peewee.FloatField(null=True)
        flags = peewee.CharField(max_length=200, default="")
        attachments = peewee.TextField(default="[]")

        class Meta:
            database = db
            table_name = "mail_record"
            indexes = ((("tenant", "mid_hash"), False),)

    class MailOutbox(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        ticket = peewee.ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
        kind = peewee.CharField(max_length=16, default="reply")
        mail_from = peewee.CharField(max_length=254)
        rcpt_to = peewee.TextField()
        raw = peewee.BlobField()
        state = peewee.CharField(max_length=16, default="queued")
        attempts = peewee.IntegerField(default=0)
        next_attempt_at = peewee.DateTimeField(default=now)
        last_error = peewee.TextField(default="")
        created_at = peewee.DateTimeField(default=now)
        sent_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "mail_outbox"
            indexes = ((("state", "next_attempt_at"), False),)

    class SmimeCredential(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="CASCADE")
        email = peewee.CharField(max_length=254)
        cert_pem = peewee.TextField()
        key_pem = peewee.TextField(default="")
        trusted = peewee.BooleanField(default=False)
        created_at = peewee.DateTimeField(default=now)

        class Meta:
            database = db
            table_name = "smime_credential"
            indexes = ((("tenant", "email"), False),)

    db.create_tables([QuarantineEntry, MailAccount, MailRecord, MailOutbox, SmimeCredential])


def down(migrator, db):
    for table in ("smime_credential", "mail_outbox", "mail_record", "mail_account", "quarantine_entry"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
