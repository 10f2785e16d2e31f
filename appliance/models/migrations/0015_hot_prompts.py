"""Hot prompts switched on (B8/B10) survive a restart: one row per tenant (or none: every tenant) and prompt
name that is on. Frozen copy."""
import datetime

import peewee


def up(migrator, db):
    class Tenant(peewee.Model):
        class Meta:
            database = db
            table_name = "tenant"

    class HotPrompt(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
        name = peewee.CharField(max_length=64)
        by_user_id = peewee.IntegerField(null=True)
        switched_on_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "hot_prompt"
            indexes = ((("tenant", "name"), True),)

    db.create_tables([HotPrompt])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "hot_prompt"')
