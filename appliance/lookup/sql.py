"""The external identification hook over SQL (D3, B2): one parameterised SELECT against a tenant's own
customer database (an SQLite file or PostgreSQL), read-only, in a worker thread under a deadline.

The query names what the channel knows with :number (the phone number, E.164), :email and :customer_no;
a value the channel does not know is bound as NULL. The first row's columns are mapped to customer fields
(number, phone, email, external, name), so the domain can recognise the customer by an identifier it knows.
"""
from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote

import sqlparse
from sqlparse import tokens as T

from appliance.domain.identify import ExternalLookup

# SQL parameter name → the identification probe's key.
PARAMETERS = {"number": "phone", "email": "email", "customer_no": "number"}
FIELDS = ("number", "phone", "email", "external", "name")
MAX_QUERY_CHARS = 4000
MAX_VALUE_CHARS = 254
SQLITE_PREFIX = "sqlite:///"
PG_PREFIXES = ("postgresql://", "postgres://")
# Each lookup opens its own connection, so a slow CRM holds a thread, never the database executor.
_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lookup-sql")
# What an SQLite statement may do under the authorizer: read tables, call functions, recurse in a CTE.
_SQLITE_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def _psycopg():
    """psycopg, imported at the first PostgreSQL hook: on SQLite, start-up goes without libpq (startup.py)."""
    import psycopg

    return psycopg


class SqlLookupFailed(Exception):
    """The SQL hook failed: the message says why, without the DSN's password."""


def dsn_problem(dsn: str) -> str | None:
    """Why a DSN cannot be used, or None."""
    if dsn.startswith(SQLITE_PREFIX):
        return None if dsn[len(SQLITE_PREFIX):].startswith("/") else "an sqlite DSN needs an absolute path (sqlite:////path)"
    if dsn.startswith(PG_PREFIXES):
        psycopg = _psycopg()
        try:
            psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.ProgrammingError as exc:
            return f"is not a PostgreSQL URL: {str(exc).splitlines()[0][:120]}"
        return None
    return "must start with sqlite:/// or postgresql://"


def query_problem(query: str) -> str | None:
    """Why a query cannot be used, or None: one SELECT, parameters only from PARAMETERS."""
    if len(query) > MAX_QUERY_CHARS:
        return f"must be at most {MAX_QUERY_CHARS} characters"
    statements = [s for s in sqlparse.parse(query) if str(s).strip(" \t\r\n;")]
    if len(statements) != 1:
        return "must be exactly one statement"
    if statements[0].get_type() != "SELECT":
        return "must be a SELECT"
    unknown = sorted({name for name in _placeholders(statements[0]) if name not in PARAMETERS})
    if unknown:
        return f"unknown parameter(s) {', '.join(':' + u for u in unknown)}; use :number, :email, :customer_no"
    return None


def columns_problem(columns: Mapping[str, Any]) -> str | None:
    """Why a column mapping cannot be used, or None."""
    for column, target in columns.items():
        if target not in FIELDS:
            return f"{column!r} maps to {target!r}; customer fields are {', '.join(FIELDS)}"
    return None


def same_server_database(dsn: str, other: str) -> bool:
    """Whether two PostgreSQL connection strings name the same database on the same server."""
    psycopg = _psycopg()

    def key(conninfo: str) -> tuple[str, str, str]:
        try:
            parts = psycopg.conninfo.conninfo_to_dict(conninfo.replace("postgres://", "postgresql://", 1))
        except psycopg.ProgrammingError:
            return ("?", "?", conninfo)
        host = str(parts.get("host") or "localhost")
        return ("localhost" if host in ("127.0.0.1", "::1") else host, str(parts.get("port") or 5432),
                str(parts.get("dbname") or parts.get("user") or ""))
    return key(dsn) == key(other)


def mask_dsn(dsn: str) -> str:
    """The DSN with its password replaced, for display."""
    if not dsn.startswith(PG_PREFIXES) or "@" not in dsn:
        return dsn
    scheme, _, rest = dsn.partition("://")
    credentials, _, host = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def _placeholders(statement: sqlparse.sql.Statement) -> list[str]:
    return [t.value[1:] for t in statement.flatten() if t.ttype in T.Name.Placeholder and t.value.startswith(":")]


def _pyformat(query: str) -> str:
    """`:name` placeholders as psycopg's %(name)s; a literal % doubled so psycopg leaves it alone."""
    out = []
    for token in sqlparse.parse(query)[0].flatten():
        if token.ttype in T.Name.Placeholder and token.value[1:] in PARAMETERS:
            out.append(f"%({token.value[1:]})s")
        else:
            out.append(token.value.replace("%", "%%"))
    return "".join(out).rstrip(" \t\r\n;")


@dataclass(frozen=True)
class SqlHook:
    """A configured SQL hook: where, what to ask, and which column is which customer field."""

    dsn: str
    query: str
    columns: Mapping[str, str] = field(default_factory=dict)  # empty: columns named like a field

    def params(self, probe: Mapping[str, str]) -> dict[str, str | None]:
        """The bound values: every known parameter, NULL where the channel knows nothing."""
        return {name: probe.get(key) or None for name, key in PARAMETERS.items()}

    def mapped(self, names: list[str], row: tuple[Any, ...]) -> dict[str, str]:
        """A result row as customer fields."""
        out: dict[str, str] = {}
        for name, value in zip(names, row):
            target = self.columns.get(name) if self.columns else (name if name in FIELDS else None)
            if target and value is not None and str(value).strip():
                out[target] = str(value).strip()[:MAX_VALUE_CHARS]
        return out

    def run(self, probe: Mapping[str, str], timeout_s: float) -> dict[str, str] | None:
        """Ask the database (blocking); None when no row matches. Stops itself after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        on_sqlite = self.dsn.startswith(SQLITE_PREFIX)
        errors = (sqlite3.Error,) if on_sqlite else (sqlite3.Error, _psycopg().Error)
        try:
            if on_sqlite:
                names, row = self._sqlite(probe, deadline)
            else:
                names, row = self._postgresql(probe, timeout_s)
        except errors as exc:
            if time.monotonic() >= deadline:
                raise SqlLookupFailed(f"timeout after {timeout_s:g} s") from None
            detail = (str(exc).strip().splitlines() or [""])[0][:160]
            raise SqlLookupFailed(f"{type(exc).__name__}: {detail}") from None
        return self.mapped(names, row) if row is not None else None

    def _sqlite(self, probe: Mapping[str, str], deadline: float) -> tuple[list[str], tuple | None]:
        path = self.dsn[len(SQLITE_PREFIX):]
        # mode=ro: SQLite itself refuses to write, and a missing file is an error rather than created.
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True,
                               timeout=max(0.0, deadline - time.monotonic()), check_same_thread=False)
        try:
            conn.set_authorizer(lambda action, *_: sqlite3.SQLITE_OK if action in _SQLITE_ALLOWED
                                else sqlite3.SQLITE_DENY)
            # Called every 1,000 VM steps: past the deadline the statement is interrupted.
            conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
            cur = conn.execute(self.query.strip().rstrip(";"), self.params(probe))
            return [d[0] for d in cur.description or ()], cur.fetchone()
        finally:
            conn.close()

    def _postgresql(self, probe: Mapping[str, str], timeout_s: float) -> tuple[list[str], tuple | None]:
        conn = _psycopg().connect(self.dsn, connect_timeout=max(2, math.ceil(timeout_s)), autocommit=False)
        try:
            conn.read_only = True  # BEGIN READ ONLY: the server refuses every write
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(max(1, int(timeout_s * 1000))),))
                cur.execute(_pyformat(self.query), self.params(probe))
                return [d.name for d in cur.description or ()], cur.fetchone()
        finally:
            conn.close()  # closing without commit rolls the read-only transaction back


def sql_lookup(hook: SqlHook, timeout_s: float) -> ExternalLookup:
    """An async lookup running the hook in a worker thread; it gives up on its own after `timeout_s`."""
    async def lookup(probe: Mapping[str, str]) -> Mapping[str, str] | None:
        return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, hook.run, dict(probe), timeout_s)
    return lookup
