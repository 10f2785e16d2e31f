"""ACD queues, script versions, agent phones, call history. Frozen copies of the models."""
import datetime

import peewee


def up(migrator, db):
    class User(peewee.Model):
        class Meta:
            database = db
            table_name = "user"

    class Tenant(peewee.Model):
        class Meta:
            database = db
            table_name = "tenant"

    class AcdQueue(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        key = peewee.CharField(max_length=64, unique=True)
        name = peewee.CharField(max_length=150)
        strategy = peewee.CharField(max_length=32, default="longest_idle")
        skills = peewee.TextField(default="{}")
        sl_target_s = peewee.FloatField(default=20.0)
        sl_goal = peewee.FloatField(default=0.8)
        wrap_up_s = peewee.FloatField(default=10.0)
        offer_timeout_s = peewee.FloatField(default=20.0)
        dialled_numbers = peewee.TextField(default="")
        active = peewee.BooleanField(default=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "acd_queue"

    class QueueScriptVersion(peewee.Model):
        queue = peewee.ForeignKeyField(AcdQueue, on_delete="CASCADE")
        version = peewee.IntegerField()
        text = peewee.TextField()
        active = peewee.BooleanField(default=False)
        author = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "queue_script_version"
            indexes = ((("queue", "version"), True),)

    class AgentPhone(peewee.Model):
        user = peewee.ForeignKeyField(User, unique=True, on_delete="CASCADE")
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        extension = peewee.CharField(max_length=6, unique=True)
        sip_account = peewee.CharField(max_length=100, default="")
        wrap_up_s = peewee.FloatField(null=True)
        queues = peewee.TextField(default="")
        hide_caller_numbers = peewee.BooleanField(default=False)

        class Meta:
            database = db
            table_name = "agent_phone"

    class CallRecord(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="SET NULL")
        call_id = peewee.CharField(max_length=100, unique=True)
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
        decision = peewee.TextField(default="null")
        ticket_id = peewee.IntegerField(null=True)

        class Meta:
            database = db
            table_name = "call_record"

    db.create_tables([AcdQueue, QueueScriptVersion, AgentPhone, CallRecord])


def down(migrator, db):
    for table in ("call_record", "agent_phone", "queue_script_version", "acd_queue"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
