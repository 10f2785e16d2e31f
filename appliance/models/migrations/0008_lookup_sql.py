"""The external identification hook over SQL (D3): DSN, query and column mapping per tenant."""
import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("tenant", "lookup_sql_dsn", peewee.CharField(max_length=500, default="")),
        migrator.add_column("tenant", "lookup_sql_query", peewee.TextField(default="")),
        migrator.add_column("tenant", "lookup_sql_map", peewee.TextField(default="{}")),
    )


def down(migrator, db):
    migrator.migrate(*[migrator.drop_column("tenant", c)
                       for c in ("lookup_sql_dsn", "lookup_sql_query", "lookup_sql_map")])
