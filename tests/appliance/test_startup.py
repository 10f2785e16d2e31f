"""Start-up imports: `run` on SQLite loads no PostgreSQL driver, no MIB compiler and no T.4 codec (numpy)
before READY (issue 3, READY < 2 s)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.appliance.process import REPO

PROBE = """
import json, sys
from appliance.startup import import_peewee_for
import_peewee_for(sys.argv[1])
import appliance.runtime, peewee
loaded = {name: name in sys.modules for name in ("psycopg", "pysmi", "requests", "numpy")}
import psycopg  # still importable for whoever really needs it
print(json.dumps({"loaded": loaded, "peewee_has_psycopg": peewee.psycopg is not None}))
"""


def _probe(database_url: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, database_url], cwd=REPO, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def test_sqlite_run_imports_no_postgres_driver_and_no_mib_compiler():
    result = _probe("sqlite:///data/appliance.db")
    assert result == {"loaded": {"psycopg": False, "pysmi": False, "requests": False,
                                 "numpy": False},
                      "peewee_has_psycopg": False}


def test_postgres_run_keeps_the_driver():
    result = _probe("postgresql://appliance@localhost/appliance")
    assert result["loaded"]["psycopg"] is True
    assert result["peewee_has_psycopg"] is True
