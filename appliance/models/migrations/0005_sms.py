"""The SMS channel: parts of concatenated messages, the outbox, and the sent parts awaiting status reports.
Frozen copies of the models, independent of later model changes."""
import datetime

import peewee


def up(migrator, db):
    def stub(name):
        class Meta:
            database = db
            table_name = name
        return type(name.title().replace("_", ""), (peewee.Model,), {"Meta": Meta})

    Tenant, Ticket, Message = stub("tenant"), stub("ticket"), stub("message")
    now = datetime.datetime.utcnow

    class SmsPart(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        set_key = peewee.CharField(max_length=200)
        sequence = peewee.IntegerField()
        total = peewee.IntegerField()
        digest = peewee.CharField(max_length=64, unique=True)
        raw = peewee.BlobField()
        modem = peewee.CharField(max_length=64, default="")
        number = peewee.CharField(max_length=32, default="")
        received_at = peewee.DateTimeField(default=now)
        state = peewee.CharField(max_length=16, default="held")
        message = peewee.ForeignKeyField(Message, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "sms_part"
            indexes = ((("set_key", "state"), False), (("state", "received_at"), False))

    class SmsOutbox(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        ticket = peewee.ForeignKeyField(Ticket, null=True, on_delete="SET NULL")
        message = peewee.ForeignKeyField(Message, null=True, unique=True, on_delete="SET NULL")
        kind = peewee.CharField(max_length=16, default="reply")
        to_number = peewee.CharField(max_length=32)
        from_number = peewee.CharField(max_length=32, default="")
        text = peewee.TextField()
        state = peewee.CharField(max_length=16, default="queued")
        attempts = peewee.IntegerField(default=0)
        next_attempt_at = peewee.DateTimeField(default=now)
        last_error = peewee.TextField(default="")
        modem = peewee.CharField(max_length=64, default="")
        parts = peewee.IntegerField(default=0)
        idempotency_key = peewee.CharField(max_length=200, null=True)
        created_at = peewee.DateTimeField(default=now)
        sent_at = peewee.DateTimeField(null=True)
        status_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "sms_outbox"
            indexes = ((("state", "next_attempt_at"), False), (("tenant", "idempotency_key"), True),
                       (("tenant", "id"), False))

    class SmsSentPart(peewee.Model):
        outbox = peewee.ForeignKeyField(SmsOutbox, on_delete="CASCADE")
        modem = peewee.CharField(max_length=64)
        reference = peewee.IntegerField()
        part = peewee.IntegerField()
        sent_at = peewee.DateTimeField(default=now)
        status = peewee.IntegerField(null=True)
        final = peewee.BooleanField(default=False)
        reported_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "sms_sent_part"
            indexes = ((("modem", "reference", "sent_at"), False),)

    db.create_tables([SmsPart, SmsOutbox, SmsSentPart])


def down(migrator, db):
    for table in ("sms_sent_part", "sms_outbox", "sms_part"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
