"""A caller unknown to the appliance is identified through the tenant's CRM over SQL (B2, D3); a slow CRM costs
the call only the hook's timeout and the call is offered as unknown."""
from __future__ import annotations

import asyncio
import sqlite3

from tests.appliance.webui.test_desk import office_setup

SLOW = ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) "
        "SELECT max(n) AS number FROM c WHERE :number IS NOT NULL")


async def test_bridge_identifies_the_caller_through_the_sql_hook(appliance, first_boot, http, tmp_path) -> None:
    office = await office_setup(appliance, first_boot, http)
    crm = tmp_path / "crm.sqlite"
    with sqlite3.connect(crm) as conn:
        conn.execute("CREATE TABLE kunden (kdnr TEXT, tel TEXT)")
        conn.execute("INSERT INTO kunden VALUES ('K-1001', '+4930999888')")
    conn.close()
    tenant = f"/tenants/{office['tenant']['id']}"
    await office["admin"].patch(tenant, {"lookup_sql_dsn": f"sqlite:///{crm}", "lookup_timeout_ms": 2000,
                                         "lookup_sql_query": "SELECT kdnr FROM kunden WHERE tel = :number",
                                         "lookup_sql_map": {"kdnr": "number"}})
    service = office["service"]
    found = await service.identify_caller("030 999888", "", "hotline")
    assert found["identity"] == "known" and found["id"] == office["customer"]["id"] and found["via"] == "external"
    assert (await service.identify_caller("+4930111222", "", "hotline"))["identity"] == "unknown"

    await office["admin"].patch(tenant, {"lookup_sql_query": SLOW, "lookup_sql_map": {}, "lookup_timeout_ms": 300})
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await service.identify_caller("030 999888", "", "hotline"))["identity"] == "unknown"
    assert loop.time() - started < 3
