"""The database: peewee on SQLite (WAL) by default or PostgreSQL by URL, with versioned migrations.

peewee is synchronous; the event loop reaches it only through `Database.call`, which runs the work on
a small executor (one thread for SQLite, whose writers serialise anyway), so a slow query never stalls
calls or screen pops.
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

import peewee
from playhouse.migrations import Runner

from appliance.models import database_proxy

MIGRATIONS_DIR = Path(__file__).parent / "models" / "migrations"
T = TypeVar("T")


def open_database(url: str) -> peewee.Database:
    """A peewee database for `sqlite:///path` or `postgresql://…`."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        return peewee.SqliteDatabase(path, pragmas={
            "journal_mode": "wal",
            # FULL: a commit is on disk when it returns, so an acknowledged message survives power loss.
            "synchronous": "full",
            "foreign_keys": 1,
            "busy_timeout": 10000,
        })
    if url.startswith(("postgresql://", "postgres://")):
        return peewee.PostgresqlDatabase(url.replace("postgres://", "postgresql://", 1),
                                         prefer_psycopg3=True)
    raise ValueError(f"unsupported database URL {url!r}")


def migrate(db: peewee.Database) -> list[str]:
    """Apply pending migrations; returns their names."""
    database_proxy.initialize(db)
    return Runner(db, str(MIGRATIONS_DIR)).up()


class Database:
    """The appliance's database handle: peewee underneath, `await db.call(fn)` from async code."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.peewee = open_database(url)
        self.is_sqlite = isinstance(self.peewee, peewee.SqliteDatabase)
        database_proxy.initialize(self.peewee)
        self._executor = ThreadPoolExecutor(max_workers=1 if self.is_sqlite else 4,
                                            thread_name_prefix="db")

    def migrate(self) -> list[str]:
        """Apply pending migrations (synchronously; at start, before services run)."""
        return migrate(self.peewee)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking database work off the event loop, inside a transaction."""
        def work() -> T:
            with self.peewee.connection_context():
                with self.peewee.atomic():
                    return fn(*args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(work))

    def size_bytes(self) -> int:
        """Size of the database on disk (SQLite) or as the server reports it."""
        if self.is_sqlite:
            base = Path(self.peewee.database)
            return sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())
        with self.peewee.connection_context():
            return int(self.peewee.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0])

    def close(self) -> None:
        """Release connections and the executor."""
        self._executor.shutdown(wait=True)
        if not self.peewee.is_closed():
            self.peewee.close()
