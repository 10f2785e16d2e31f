"""Image variables and personal signatures (E4): content_image, user_profile. Frozen copies of the models."""
import datetime

import peewee


def up(migrator, db):
    def stub(name):
        class Meta:
            database = db
            table_name = name
        return type(name.title().replace("_", ""), (peewee.Model,), {"Meta": Meta})

    Tenant, User, Mailbox = stub("tenant"), stub("user"), stub("mailbox")
    now = datetime.datetime.utcnow

    class ContentImage(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="CASCADE")
        name = peewee.CharField(max_length=40)
        digest = peewee.CharField(max_length=64)
        mime = peewee.CharField(max_length=40)
        size = peewee.IntegerField()
        width = peewee.IntegerField()
        height = peewee.IntegerField()
        alt = peewee.CharField(max_length=200, default="")
        created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
        updated_at = peewee.DateTimeField(default=now)

        class Meta:
            database = db
            table_name = "content_image"
            indexes = ((("tenant", "name"), False), (("tenant", "digest"), False))

    class UserProfile(peewee.Model):
        user = peewee.ForeignKeyField(User, unique=True, on_delete="CASCADE")
        tenant = peewee.ForeignKeyField(Tenant, null=True, on_delete="CASCADE")
        signature = peewee.TextField(default="")
        image_digest = peewee.CharField(max_length=64, default="")
        image_mime = peewee.CharField(max_length=40, default="")
        image_width = peewee.IntegerField(default=0)
        image_height = peewee.IntegerField(default=0)
        image_alt = peewee.CharField(max_length=200, default="")
        salutations = peewee.TextField(default="{}")
        updated_at = peewee.DateTimeField(default=now)

        class Meta:
            database = db
            table_name = "user_profile"

    db.create_tables([ContentImage, UserProfile])


def down(migrator, db):
    for table in ("user_profile", "content_image"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
