"""Hot-path SQL for intake: inserts and lookups with their SQL text built once and cached.

peewee builds the SQL of every query anew; for a mail that is ~40% of its intake cost. Intake writes
the same few shapes of row thousands of times, so here the text is made once per shape, and values
still go through each field's `db_value` (dates, foreign keys) exactly as peewee would send them.
"""
from __future__ import annotations

from typing import Any, Sequence

import peewee

_INSERTS: dict[tuple[type, tuple[str, ...], type], tuple[str, list[peewee.Field]]] = {}


def _db(model: type[peewee.Model]) -> peewee.Database:
    db = model._meta.database
    return db.obj if isinstance(db, peewee.DatabaseProxy) else db


def insert_row(model: type[peewee.Model], **values: Any) -> int:
    """INSERT one row (Python-side defaults applied like Model.create); returns its id."""
    db = _db(model)
    key = (model, tuple(values), type(db))  # the SQL differs between SQLite and PostgreSQL
    cached = _INSERTS.get(key)
    if cached is None:
        fields = [model._meta.fields[name] for name in values]
        fields += [f for f in model._meta.sorted_fields
                   if f.name not in values and not f.primary_key and f.default is not None]
        cols = ", ".join(f'"{f.column_name}"' for f in fields)
        sql = f'INSERT INTO "{model._meta.table_name}" ({cols}) VALUES ({", ".join([db.param] * len(fields))})'
        if not isinstance(db, peewee.SqliteDatabase):
            sql += ' RETURNING "id"'
        cached = _INSERTS[key] = (sql, fields)
    sql, fields = cached
    params = []
    for f in fields:
        v = values[f.name] if f.name in values else (f.default() if callable(f.default) else f.default)
        params.append(f.db_value(v))
    cursor = db.execute_sql(sql, params)
    return cursor.lastrowid if isinstance(db, peewee.SqliteDatabase) else cursor.fetchone()[0]


def select_rows(model: type[peewee.Model], sql: str, params: Sequence[Any]) -> list[tuple]:
    """Run a SELECT written with `{p}` for each parameter placeholder."""
    db = _db(model)
    return list(db.execute_sql(sql.replace("{p}", db.param), list(params)).fetchall())


def placeholders(n: int) -> str:
    """`{p}, {p}, …` for an IN list of n values."""
    return ", ".join(["{p}"] * n)
