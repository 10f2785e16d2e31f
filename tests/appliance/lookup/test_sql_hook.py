"""The SQL identification hook against a real SQLite file and a real PostgreSQL server: mapping, read-only,
parameters bound (never spliced), and a slow query stopped by the timeout."""
from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from appliance.domain import identify as ident
from appliance.lookup import sql
from appliance.lookup.sql import SqlHook, SqlLookupFailed

QUERY = "SELECT kdnr, full_name, mail FROM kunden WHERE tel = :number OR mail = :email OR kdnr = :customer_no"
COLUMNS = {"kdnr": "number", "full_name": "name", "mail": "email"}
# Counts to a billion: far longer than any timeout below, yet touches no table.
SLOW = ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) "
        "SELECT max(n) AS number FROM c WHERE :number IS NULL OR :number IS NOT NULL")


@pytest.fixture
def crm_file(tmp_path: Path) -> Path:
    """A customer database of another system, as a real SQLite file."""
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kunden (kdnr TEXT, full_name TEXT, tel TEXT, mail TEXT)")
        conn.execute("INSERT INTO kunden VALUES ('K-1001', 'Peter Gibbons', '+4940123456', 'peter@crm.example')")
    conn.close()
    return path


def test_sqlite_row_is_mapped_to_customer_fields(crm_file: Path) -> None:
    hook = SqlHook(f"sqlite:///{crm_file}", QUERY, COLUMNS)
    assert hook.run({"phone": "+4940123456"}, 2.0) == {"number": "K-1001", "name": "Peter Gibbons",
                                                       "email": "peter@crm.example"}
    assert hook.run({"email": "peter@crm.example"}, 2.0)["number"] == "K-1001"
    assert hook.run({"number": "K-1001"}, 2.0)["name"] == "Peter Gibbons"
    assert hook.run({"phone": "+4930999"}, 2.0) is None
    # Without a mapping, columns named like a customer field are taken as they are.
    plain = SqlHook(f"sqlite:///{crm_file}", "SELECT kdnr AS number, full_name AS name FROM kunden "
                    "WHERE tel = :number")
    assert plain.run({"phone": "+4940123456"}, 2.0) == {"number": "K-1001", "name": "Peter Gibbons"}


def test_sqlite_values_are_bound_not_spliced(crm_file: Path) -> None:
    hook = SqlHook(f"sqlite:///{crm_file}", QUERY, COLUMNS)
    assert hook.run({"email": "x' OR '1'='1"}, 2.0) is None


def test_sqlite_is_opened_read_only(crm_file: Path, tmp_path: Path) -> None:
    for statement in ("DELETE FROM kunden", "UPDATE kunden SET full_name = 'x'",
                      f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS o", "PRAGMA journal_mode = delete"):
        with pytest.raises(SqlLookupFailed):
            SqlHook(f"sqlite:///{crm_file}", statement).run({}, 2.0)
    with sqlite3.connect(crm_file) as conn:
        assert conn.execute("SELECT full_name FROM kunden").fetchall() == [("Peter Gibbons",)]
    conn.close()
    assert not (tmp_path / "other.db").exists()
    missing = tmp_path / "missing.sqlite"
    with pytest.raises(SqlLookupFailed):
        SqlHook(f"sqlite:///{missing}", "SELECT 1").run({}, 2.0)
    assert not missing.exists()  # mode=ro never creates a file


def test_sqlite_slow_query_is_interrupted_at_the_timeout(crm_file: Path) -> None:
    hook = SqlHook(f"sqlite:///{crm_file}", SLOW)
    started = time.monotonic()
    with pytest.raises(SqlLookupFailed, match="timeout"):
        hook.run({"phone": "+4940123456"}, 0.3)
    assert time.monotonic() - started < 5  # the worker thread stops; it does not count to a billion


async def test_identification_gives_up_on_a_slow_hook_and_reports_it(crm_file: Path) -> None:
    async def local(kind: str, value: str) -> list[int]:
        return [7] if (kind, value) == ("number", "K-1001") else []

    fast = sql.sql_lookup(SqlHook(f"sqlite:///{crm_file}", QUERY, COLUMNS), 2.0)
    found = await ident.identify(ident.Probe(phone="040 123456"), "DE", local, fast, 2.0)
    assert found.customer_ids == [7] and found.via == "external"
    assert found.external_record["name"] == "Peter Gibbons"
    slow = sql.sql_lookup(SqlHook(f"sqlite:///{crm_file}", SLOW), 0.3)
    found = await ident.identify(ident.Probe(phone="040 123456"), "DE", local, slow, 0.3)
    assert found.customer_ids == [] and "timeout" in found.external_error


@pytest.fixture
def crm_pg(pg_server) -> str:
    """A customer database of another system on a real PostgreSQL server."""
    url = pg_server.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kunden (kdnr text, full_name text, tel text, mail text)")
        conn.execute("INSERT INTO kunden VALUES ('K-1001', 'Peter Gibbons', '+4940123456', 'peter@crm.example')")
    return url


def test_postgresql_row_is_mapped_and_percent_and_casts_survive(crm_pg: str) -> None:
    hook = SqlHook(crm_pg, QUERY, COLUMNS)
    assert hook.run({"phone": "+4940123456"}, 3.0) == {"number": "K-1001", "name": "Peter Gibbons",
                                                       "email": "peter@crm.example"}
    assert hook.run({"email": "x' OR '1'='1"}, 3.0) is None
    tricky = SqlHook(crm_pg, "SELECT kdnr::text AS number FROM kunden WHERE full_name LIKE 'Peter%' "
                     "AND tel = :number -- a comment with 50% and :email\n")
    assert tricky.run({"phone": "+4940123456"}, 3.0) == {"number": "K-1001"}


def test_postgresql_runs_in_a_read_only_transaction(crm_pg: str) -> None:
    # A data-modifying CTE is a SELECT to a parser; the server's read-only transaction refuses it.
    sneaky = "WITH gone AS (DELETE FROM kunden RETURNING kdnr) SELECT kdnr AS number FROM gone"
    with pytest.raises(SqlLookupFailed, match="ReadOnlySqlTransaction"):
        SqlHook(crm_pg, sneaky).run({}, 3.0)
    with psycopg.connect(crm_pg) as conn:
        assert conn.execute("SELECT count(*) FROM kunden").fetchone()[0] == 1


def test_postgresql_slow_query_hits_the_statement_timeout(crm_pg: str) -> None:
    hook = SqlHook(crm_pg, "SELECT kdnr AS number FROM kunden, pg_sleep(10) WHERE tel = :number")
    started = time.monotonic()
    with pytest.raises(SqlLookupFailed, match="timeout"):
        hook.run({"phone": "+4940123456"}, 0.5)
    assert time.monotonic() - started < 5


def test_postgresql_unreachable_server_is_a_clear_error() -> None:
    from tests.pg import free_port
    with pytest.raises(SqlLookupFailed, match="OperationalError"):
        SqlHook(f"postgresql://nobody:secret@127.0.0.1:{free_port()}/crm", "SELECT 1").run({}, 1.0)


@pytest.mark.parametrize("query, problem", [
    (QUERY, None),
    ("WITH a AS (SELECT 1 AS number) SELECT number FROM a WHERE :email IS NOT NULL", None),
    ("DELETE FROM kunden", "must be a SELECT"),
    ("SELECT 1; SELECT 2", "exactly one statement"),
    ("SELECT 1 WHERE :phone = 1", "unknown parameter(s) :phone"),
    ("SELECT " + "1" * 5000, "at most"),
])
def test_query_checks(query: str, problem: str | None) -> None:
    found = sql.query_problem(query)
    assert (found is None) if problem is None else (problem in found), found


def test_dsn_checks_and_masking() -> None:
    assert sql.dsn_problem("sqlite:////var/lib/crm.db") is None
    assert "absolute" in sql.dsn_problem("sqlite:///crm.db")
    assert sql.dsn_problem("postgresql://crm:pw@db.example/crm") is None
    assert "must start with" in sql.dsn_problem("mysql://x")
    assert sql.mask_dsn("postgresql://crm:pw@db.example:5432/crm") == "postgresql://crm:***@db.example:5432/crm"
    assert sql.mask_dsn("postgresql://db.example/crm") == "postgresql://db.example/crm"
    assert sql.same_server_database("postgresql://a:x@127.0.0.1/app", "postgresql://b@localhost:5432/app")
    assert not sql.same_server_database("postgresql://a@127.0.0.1/crm", "postgresql://a@127.0.0.1/app")
    assert not sql.same_server_database("postgresql://a@db1/app", "postgresql://a@db2/app")
    assert sql.columns_problem({"kdnr": "number"}) is None
    assert "customer fields" in sql.columns_problem({"kdnr": "salary"})
