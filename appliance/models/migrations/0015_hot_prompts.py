"""Hot prompts switched on (B8/B10) survive a restart: one row per prompt name that is on. Frozen copy."""
import datetime

import peewee


def up(migrator, db):
    class Tenant(peewee.Model):
        class Meta:
            database = db
            table_name = "tenant"

    class HotPrompt(peewee.Model):
        name = peewee.CharField(max_length=64, unique=True)
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="SET NULL")
        by_user_id = peewee.IntegerField(null=True)
        switched_on_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "hot_prompt"

    db.create_tables([HotPrompt])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "hot_prompt"')
