"""Text blocks and reply templates (E3–E5). Frozen copies of the models."""
import datetime

import peewee


def up(migrator, db):
    def stub(name):
        class Meta:
            database = db
            table_name = name
        return type(name.title().replace("_", ""), (peewee.Model,), {"Meta": Meta})

    Tenant, User, Team, Skill, Mailbox = (stub("tenant"), stub("user"), stub("team"), stub("skill"),
                                          stub("mailbox"))
    now = datetime.datetime.utcnow

    class TextBlock(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        visibility = peewee.CharField(max_length=16, default="tenant")
        owner = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")
        team = peewee.ForeignKeyField(Team, null=True, on_delete="CASCADE")
        shortcut = peewee.CharField(max_length=40)
        title = peewee.CharField(max_length=200)
        body_text = peewee.TextField(default="")
        body_html = peewee.TextField(default="")
        language = peewee.CharField(max_length=16, default="")
        category = peewee.CharField(max_length=100, default="")
        channels = peewee.CharField(max_length=100, default="")
        skill = peewee.ForeignKeyField(Skill, null=True, on_delete="SET NULL")
        active = peewee.BooleanField(default=True)
        created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
        updated_at = peewee.DateTimeField(default=now)

        class Meta:
            database = db
            table_name = "text_block"
            indexes = ((("tenant", "shortcut"), False),)

    class ReplyTemplate(peewee.Model):
        tenant = peewee.ForeignKeyField(Tenant, on_delete="CASCADE")
        visibility = peewee.CharField(max_length=16, default="tenant")
        owner = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")
        team = peewee.ForeignKeyField(Team, null=True, on_delete="CASCADE")
        mailbox = peewee.ForeignKeyField(Mailbox, null=True, on_delete="CASCADE")
        name = peewee.CharField(max_length=200)
        language = peewee.CharField(max_length=16, default="")
        channels = peewee.CharField(max_length=100, default="")
        salutation = peewee.TextField(default="")
        body_text = peewee.TextField(default="")
        body_html = peewee.TextField(default="")
        signature = peewee.TextField(default="")
        is_default = peewee.BooleanField(default=False)
        active = peewee.BooleanField(default=True)
        created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
        updated_at = peewee.DateTimeField(default=now)

        class Meta:
            database = db
            table_name = "reply_template"
            indexes = ((("tenant", "mailbox"), False),)

    db.create_tables([TextBlock, ReplyTemplate])


def down(migrator, db):
    for table in ("reply_template", "text_block"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
