"""Voice messages sent by e-mail (B8/B18), after-call survey answers (B17), prompt versions and their
activation rules (B10). Frozen copies of the models."""
import datetime

import peewee


def up(migrator, db):
    class Tenant(peewee.Model):
        class Meta:
            database = db
            table_name = "tenant"

    class Prompt(peewee.Model):
        class Meta:
            database = db
            table_name = "prompt"

    class VoiceMessage(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        call_id = peewee.CharField(max_length=100, unique=True)
        queue_key = peewee.CharField(max_length=64, default="")
        caller = peewee.CharField(max_length=40, default="")
        to_address = peewee.CharField(max_length=254)
        digest = peewee.CharField(max_length=64)
        content_type = peewee.CharField(max_length=32, default="audio/wav")
        duration_s = peewee.FloatField(default=0.0)
        size = peewee.IntegerField(default=0)
        ticket_id = peewee.IntegerField(index=True)
        message_id = peewee.IntegerField(index=True)
        outbox_id = peewee.IntegerField(null=True)
        mail_error = peewee.CharField(max_length=300, default="")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "voice_message"

    class SurveyAnswer(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
        call_id = peewee.CharField(max_length=100)
        queue_key = peewee.CharField(max_length=64, index=True)
        agent_id = peewee.CharField(max_length=64, null=True, index=True)
        question = peewee.IntegerField()
        prompt = peewee.CharField(max_length=64, default="")
        answer = peewee.IntegerField()
        scale_max = peewee.IntegerField(default=5)
        answered_at = peewee.DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "survey_answer"
            indexes = ((("call_id", "question"), True),)

    class PromptVersion(peewee.Model):
        prompt = peewee.ForeignKeyField(Prompt, on_delete="CASCADE")
        version = peewee.IntegerField()
        digest = peewee.CharField(max_length=64)
        content_type = peewee.CharField(max_length=32)
        duration_s = peewee.FloatField(null=True)
        author_id = peewee.IntegerField(null=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "prompt_version"
            indexes = ((("prompt", "version"), True),)

    class PromptRule(peewee.Model):
        prompt = peewee.ForeignKeyField(Prompt, on_delete="CASCADE")
        version = peewee.IntegerField()
        kind = peewee.CharField(max_length=16)
        starts_at = peewee.DateTimeField(null=True)
        ends_at = peewee.DateTimeField(null=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "prompt_rule"

    migrator.migrate(migrator.add_column("prompt", "active_version", peewee.IntegerField(null=True)))
    db.create_tables([VoiceMessage, SurveyAnswer, PromptVersion, PromptRule])
    # Every prompt uploaded before versions existed becomes its own version 1, active.
    rows = db.execute_sql('SELECT id, digest, content_type, duration_s, created_at FROM "prompt"').fetchall()
    for prompt_id, digest, content_type, duration, created in rows:
        PromptVersion.insert(prompt=prompt_id, version=1, digest=digest, content_type=content_type,
                             duration_s=duration, created_at=created or datetime.datetime.utcnow()).execute()
    db.execute_sql('UPDATE "prompt" SET active_version = 1')


def down(migrator, db):
    for table in ("prompt_rule", "prompt_version", "survey_answer", "voice_message"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
    migrator.migrate(migrator.drop_column("prompt", "active_version"))
