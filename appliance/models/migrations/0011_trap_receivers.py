"""SNMP notification receivers set up in the admin console. Frozen copy of the model."""
import datetime

import peewee


def up(migrator, db):
    class TrapReceiver(peewee.Model):
        name = peewee.CharField(max_length=64, unique=True)
        host = peewee.CharField(max_length=253)
        port = peewee.IntegerField(default=162)
        version = peewee.CharField(max_length=8, default="v3")
        community_sealed = peewee.TextField(default="")
        v3_user = peewee.CharField(max_length=32, default="")
        auth_sealed = peewee.TextField(default="")
        priv_sealed = peewee.TextField(default="")
        enabled = peewee.BooleanField(default=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        updated_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "trap_receiver"

    db.create_tables([TrapReceiver])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "trap_receiver"')
