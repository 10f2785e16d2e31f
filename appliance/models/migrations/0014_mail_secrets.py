"""Mail secrets at rest: account passwords and S/MIME private keys get sealed columns (the mail service seals
rows still in plain text at start, as migrations have no key); partner certificates carry where they came from."""
import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("mail_account", "password_sealed", peewee.TextField(default="")),
        migrator.add_column("smime_credential", "key_sealed", peewee.TextField(default="")),
        migrator.add_column("smime_credential", "source", peewee.CharField(max_length=16, default="upload")),
        migrator.add_column("smime_credential", "sha256", peewee.CharField(max_length=64, default="")),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("mail_account", "password_sealed"),
                     *[migrator.drop_column("smime_credential", c) for c in ("key_sealed", "source", "sha256")])
