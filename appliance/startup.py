"""Start-up time: keep imports the configured appliance never uses out of `run` (issue 3: READY < 2 s).

peewee (and playhouse's migrator, through its CockroachDB and postgres_ext modules) import a PostgreSQL
driver at import time if one is installed (psycopg with libpq: ~0.15 s), whether or not the database is
PostgreSQL. On SQLite, the default, that import buys nothing.
"""
from __future__ import annotations

import sys

POSTGRES_SCHEMES = ("postgres://", "postgresql://")
# peewee tries these in order; a None in sys.modules makes `import x` raise ImportError at once.
POSTGRES_DRIVERS = ("psycopg2", "psycopg2cffi", "psycopg")


def import_peewee_for(database_url: str) -> None:
    """Import peewee and the migrator now, without PostgreSQL drivers unless `database_url` is PostgreSQL."""
    if database_url.startswith(POSTGRES_SCHEMES) or "peewee" in sys.modules:
        return
    blocked = [name for name in POSTGRES_DRIVERS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import peewee  # noqa: F401  (its driver globals stay None for this process)
        import playhouse.migrations  # noqa: F401
    finally:
        for name in blocked:
            del sys.modules[name]  # importable again by anyone who really wants one
