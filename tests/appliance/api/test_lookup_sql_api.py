"""The SQL identification hook configured per tenant through the API, then used by identification: bad
settings are refused naming the field, the DSN's password is never shown, a slow query costs only its timeout."""
from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client

QUERY = "SELECT kdnr, full_name FROM kunden WHERE tel = :number OR mail = :email"
SLOW = ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) "
        "SELECT max(n) AS number FROM c WHERE :number IS NOT NULL")


def _crm(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kunden (kdnr TEXT, full_name TEXT, tel TEXT, mail TEXT)")
        conn.execute("INSERT INTO kunden VALUES ('K-1001', 'Peter Gibbons', '+4940123456', 'peter@crm.example')")
    conn.close()
    return f"sqlite:///{path}"


async def test_tenant_sql_hook_identifies_and_times_out(appliance, first_boot, http, tmp_path: Path) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    _, agent = await user_client(acme, "agent-a")
    person = await acme.post("/customers", {"name": "P. Gibbons", "number": "K-1001"})
    dsn = _crm(tmp_path / "crm.sqlite")
    path = f"/tenants/{tenant['id']}"

    status, answer = await admin.call("PATCH", path, {"lookup_sql_dsn": "mysql://crm", "lookup_sql_query": "DELETE FROM x",
                                                      "lookup_sql_map": {"kdnr": "salary"}})
    assert status == 400 and set(answer["fields"]) == {"lookup_sql_dsn", "lookup_sql_query", "lookup_sql_map"}
    status, answer = await admin.call("PATCH", path, {"lookup_sql_dsn": dsn})
    assert status == 400 and "needs a query" in answer["fields"]["lookup_sql_query"]
    # The appliance's own database would show every tenant's rows.
    own = f"sqlite:///{appliance.db.peewee.database}" if appliance.db.is_sqlite else \
        appliance.db.peewee.database.replace("appliance@", "reader:pw@")
    status, answer = await admin.call("PATCH", path, {"lookup_sql_dsn": own, "lookup_sql_query": QUERY})
    assert status == 400 and answer["fields"]["lookup_sql_dsn"] == "is the appliance's own database"
    status, answer = await admin.call("PATCH", path, {"lookup_sql_query": "SELECT 1 WHERE :who = 1"})
    assert status == 400 and ":who" in answer["fields"]["lookup_sql_query"]
    # A tenant's own admin may not point the hook anywhere (it reads files and databases of the box).
    assert (await acme.call("PATCH", path, {"lookup_sql_dsn": dsn, "lookup_sql_query": QUERY}))[0] == 403

    saved = await admin.patch(path, {"lookup_sql_dsn": dsn, "lookup_sql_query": QUERY,
                                     "lookup_sql_map": {"kdnr": "number", "full_name": "name"},
                                     "lookup_timeout_ms": 2000})
    assert saved["lookup_sql_dsn"] == dsn and saved["lookup_sql_map"] == {"kdnr": "number", "full_name": "name"}
    found = await agent.get("/customers/identify", phone="040 123456")
    assert found["via"] == "external" and [c["id"] for c in found["customers"]] == [person["id"]]
    assert found["external"] == {"number": "K-1001", "name": "Peter Gibbons"} and found["external_hook"] == "sql"
    assert found["external_error"] == ""
    unknown = await agent.get("/customers/identify", email="nobody@crm.example")
    assert unknown["customers"] == [] and unknown["external_error"] == "" and unknown["external"] == {}

    # The slow query: identification answers after the timeout, with the reason, and the next lookup works.
    await admin.patch(path, {"lookup_sql_query": SLOW, "lookup_sql_map": {}, "lookup_timeout_ms": 300})
    loop = asyncio.get_running_loop()
    started = loop.time()
    found = await agent.get("/customers/identify", phone="040 123456")
    assert found["customers"] == [] and "timeout" in found["external_error"]
    assert loop.time() - started < 3
    await admin.patch(path, {"lookup_sql_query": QUERY, "lookup_sql_map": {"kdnr": "number"},
                             "lookup_timeout_ms": 2000})
    assert (await agent.get("/customers/identify", phone="040 123456"))["customers"][0]["id"] == person["id"]

    # A PostgreSQL DSN's password is stored but never shown; sending the masked form back keeps it.
    secret = "postgresql://crm:s3cret@127.0.0.1:1/crm"
    shown = await admin.patch(path, {"lookup_sql_dsn": secret})
    assert shown["lookup_sql_dsn"] == "postgresql://crm:***@127.0.0.1:1/crm"
    assert "s3cret" not in str(await acme.get(path)) and "s3cret" not in str(await admin.get("/tenants"))
    await admin.patch(path, {"lookup_sql_dsn": shown["lookup_sql_dsn"], "region": "AT"})

    def stored() -> str:
        from appliance.models import Tenant
        return Tenant.get_by_id(tenant["id"]).lookup_sql_dsn
    assert await appliance.db.call(stored) == secret
    # The unreachable server is an error in the answer, not a failed request.
    found = await agent.get("/customers/identify", phone="01 23 45 67 89")
    assert found["customers"] == [] and "OperationalError" in found["external_error"]


async def test_admin_console_sets_and_tries_the_sql_hook(appliance, first_boot, http, tmp_path: Path) -> None:
    from tests.appliance.webui.helpers import csrf_from, login_admin
    await login_admin(http, first_boot.admin_password)
    token = await csrf_from(http, "/admin/org/tenants/new")
    async with http.post("/admin/org/tenants/new", data={"name": "Acme", "csrf_token": token},
                         allow_redirects=False) as resp:
        page = f"/admin/org/tenants/{resp.headers['Location'].split('/')[-1].split('?')[0]}"
    # The query is long text: a textarea; a bad one is named next to its field.
    form = {"csrf_token": token, "lookup_sql_dsn": _crm(tmp_path / "crm.sqlite"), "lookup_sql_query": "DROP TABLE kunden"}
    async with http.post(page, data=form, allow_redirects=False) as resp:
        text = await resp.text()
        assert resp.status == 400 and 'id="e-lookup_sql_query">must be a SELECT<' in text
        assert '<textarea id="f-lookup_sql_query"' in text
    form.update(lookup_sql_query=QUERY, lookup_sql_map='{"kdnr": "number", "full_name": "name"}')
    async with http.post(page, data=form, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
    async with http.get(page) as resp:
        text = await resp.text()
        assert "Try the lookup" in text
    async with http.post(page + "/lookup-test", data={"csrf_token": token, "phone": "040 123456"}) as resp:
        text = await resp.text()
        assert resp.status == 200 and "The sql hook answered" in text and "Peter Gibbons" in text
    async with http.post(page, data={"csrf_token": token, "lookup_sql_query": SLOW, "lookup_sql_map": "{}",
                                     "lookup_timeout_ms": "200"}, allow_redirects=False) as resp:
        assert resp.status == 302
    async with http.post(page + "/lookup-test", data={"csrf_token": token, "phone": "040 123456"}) as resp:
        text = await resp.text()
        assert re.search(r"The sql hook failed: [^<]*timeout after 0.2 s", text)
        assert re.search(r"Last failure [0-9: -]+ UTC: sql: [^<]*timeout", text)
    async with http.post(page + "/lookup-test", data={"phone": "040 123456"}) as resp:
        assert resp.status == 403  # no CSRF token, no lookup
