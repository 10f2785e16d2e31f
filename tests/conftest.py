"""Shared fixtures: databases (SQLite and a real PostgreSQL), an initialised data directory, and the
appliance running in-process on free ports."""
from __future__ import annotations

import os
import shutil
import ssl
from pathlib import Path
from typing import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.pg import PgServer, free_port, start_pg
from tests.tools import require_tool

# Real APPLIANCE_* variables of the developer's shell must not leak into tests.
for _name in [n for n in os.environ if n.startswith("APPLIANCE_") and not n.startswith("APPLIANCE_HW_")]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session (skipped without it, failing under CI=true)."""
    require_tool("/usr/lib/postgresql/15/bin/initdb" if os.path.exists("/usr/lib/postgresql/15/bin/initdb")
                 else "initdb", "postgresql")
    server = start_pg()
    assert server is not None
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every database test runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'appliance.db'}"
    return request.getfixturevalue("pg_server").new_database()


@pytest.fixture
def app_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for an appliance in tmp_path on free ports."""
    return {
        "APPLIANCE_DATA_DIR": str(tmp_path / "data"),
        "APPLIANCE_DATABASE_URL": database_url,
        "APPLIANCE_WEB_PORT": "0",
        "APPLIANCE_WEB_HOST": "127.0.0.1",
        "APPLIANCE_SNMP_PORT": str(free_port()),
        "APPLIANCE_MAIL_SMTP_PORT": str(free_port()),
        "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
    }


@pytest.fixture
def first_boot(app_env: dict[str, str]):
    """An initialised data directory; `.admin_password` is the one-time password."""
    from appliance.firstboot import initialise
    return initialise(Path(app_env["APPLIANCE_DATA_DIR"]), app_env)


@pytest.fixture
async def appliance(first_boot, app_env) -> AsyncIterator:
    """The whole appliance running in this event loop."""
    from appliance import config
    from appliance.runtime import Appliance

    app = Appliance(config.load(first_boot.root, app_env))
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def http(appliance) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser-like HTTPS client (cookies kept) pointed at the running appliance."""
    ssl_ctx = ssl.create_default_context(cafile=str(appliance.data.cert))
    connector = aiohttp.TCPConnector(ssl=ssl_ctx)
    async with aiohttp.ClientSession(base_url=f"https://localhost:{appliance.web_port}",
                                     connector=connector, cookie_jar=aiohttp.CookieJar()) as session:
        yield session
