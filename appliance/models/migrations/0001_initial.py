"""Users and API tokens. Frozen copies of the models, independent of later model changes."""
import datetime

import peewee


def up(migrator, db):
    class User(peewee.Model):
        username = peewee.CharField(max_length=150, unique=True)
        display_name = peewee.CharField(max_length=200, default="")
        password_hash = peewee.CharField(max_length=255)
        role = peewee.CharField(max_length=32, default="agent")
        must_change_password = peewee.BooleanField(default=False)
        active = peewee.BooleanField(default=True)
        failed_logins = peewee.IntegerField(default=0)
        locked_until = peewee.DateTimeField(null=True)
        language = peewee.CharField(max_length=16, default="en")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        password_changed_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "user"

    class ApiToken(peewee.Model):
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        token_hash = peewee.CharField(max_length=64, unique=True)
        name = peewee.CharField(max_length=100, default="")
        scopes = peewee.CharField(max_length=500, default="*")
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)
        expires_at = peewee.DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "api_token"

    db.create_tables([User, ApiToken])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "api_token"')
    db.execute_sql('DROP TABLE IF EXISTS "user"')
