"""SMS gateways (C10): a mail account can be an SMS gateway's source (what kind, which service number, how to
read the sender), and an outbox row keeps the HTTP gateway's message id so its delivery report finds the row."""
import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("mail_account", "kind", peewee.CharField(max_length=16, default="mail")),
        migrator.add_column("mail_account", "sms_number", peewee.CharField(max_length=32, default="")),
        migrator.add_column("mail_account", "sms_sender_regex", peewee.CharField(max_length=200, default="")),
        migrator.add_column("sms_outbox", "gateway_id", peewee.CharField(max_length=150, null=True)),
        migrator.add_index("sms_outbox", ("gateway_id",), False),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_index("sms_outbox", "sms_outbox_gateway_id"),
                     migrator.drop_column("sms_outbox", "gateway_id"),
                     *[migrator.drop_column("mail_account", c) for c in ("kind", "sms_number", "sms_sender_regex")])
