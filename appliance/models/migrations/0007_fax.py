"""Fax records and the fax outbox. Frozen copies of the models."""
import datetime

import peewee


def up(migrator, db):
    class FaxRecord(peewee.Model):
        tenant_id = peewee.IntegerField(index=True)
        message_id = peewee.IntegerField(index=True)
        ticket_id = peewee.IntegerField(index=True)
        modem = peewee.CharField(max_length=64)
        called = peewee.CharField(max_length=40, default="")
        remote_id = peewee.CharField(max_length=40, default="")
        pages = peewee.IntegerField(default=0)
        page_status = peewee.TextField(default="[]")
        tiff = peewee.CharField(max_length=64)
        pdf = peewee.CharField(max_length=64)
        preview = peewee.CharField(max_length=64, default="")
        complete = peewee.BooleanField(default=True)
        received_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "fax_record"

    class FaxOutbox(peewee.Model):
        tenant_id = peewee.IntegerField(null=True, index=True)
        ticket_id = peewee.IntegerField(null=True, index=True)
        number = peewee.CharField(max_length=40)
        document = peewee.CharField(max_length=64)
        state = peewee.CharField(max_length=16, default="queued", index=True)
        attempts = peewee.IntegerField(default=0)
        next_at = peewee.DateTimeField(default=datetime.datetime.utcnow, index=True)
        last_error = peewee.CharField(max_length=300, default="")
        report = peewee.TextField(default="{}")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        sent_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "fax_outbox"

    db.create_tables([FaxRecord, FaxOutbox])


def down(migrator, db):
    for table in ("fax_outbox", "fax_record"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
