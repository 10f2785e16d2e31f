"""Queue calendars (B9) and the prompt catalogue (B10). Frozen copies of the models."""
import datetime

import peewee


def up(migrator, db):
    class Tenant(peewee.Model):
        class Meta:
            database = db
            table_name = "tenant"

    class Prompt(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
        name = peewee.CharField(max_length=64)
        language = peewee.CharField(max_length=8, default="en")
        digest = peewee.CharField(max_length=64)
        content_type = peewee.CharField(max_length=32)
        duration_s = peewee.FloatField(null=True)
        active = peewee.BooleanField(default=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "prompt"
            indexes = ((("tenant", "name", "language"), True),)

    migrator.migrate(migrator.add_column("acd_queue", "calendar", peewee.TextField(default="")))
    db.create_tables([Prompt])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "prompt"')
    migrator.migrate(migrator.drop_column("acd_queue", "calendar"))
