"""Call control (B3, B12) and wrap-up codes (issue 6): the parties of a call (consultations, transfers,
three-ways) on its history row, wrap-up codes per tenant or queue, the codes given per call and agent, and
the queue's "codes required" switch. Frozen copies of the models."""
import datetime

import peewee


def up(migrator, db):
    class Tenant(peewee.Model):
        class Meta:
            database = db
            table_name = "tenant"

    class AcdQueue(peewee.Model):
        class Meta:
            database = db
            table_name = "acd_queue"

    class WrapUpCode(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        queue = peewee.ForeignKeyField(AcdQueue, null=True, on_delete="CASCADE")
        code = peewee.CharField(max_length=32)
        name = peewee.CharField(max_length=100)
        active = peewee.BooleanField(default=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "wrap_up_code"
            indexes = ((("tenant", "code"), True),)

    class CallWrapUp(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
        call_id = peewee.CharField(max_length=100, index=True)
        agent_id = peewee.CharField(max_length=64)
        queue_key = peewee.CharField(max_length=64, default="", index=True)
        codes = peewee.TextField(default="[]")
        note = peewee.CharField(max_length=500, default="")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            database = db
            table_name = "call_wrap_up"
            indexes = ((("call_id", "agent_id"), True),)

    db.create_tables([WrapUpCode, CallWrapUp])
    migrator.migrate(
        migrator.add_column("call_record", "parties", peewee.TextField(default="[]")),
        migrator.add_column("acd_queue", "wrap_up_required", peewee.BooleanField(default=False)),
    )


def down(migrator, db):
    for table in ("call_wrap_up", "wrap_up_code"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
    migrator.migrate(migrator.drop_column("call_record", "parties"),
                     migrator.drop_column("acd_queue", "wrap_up_required"))
