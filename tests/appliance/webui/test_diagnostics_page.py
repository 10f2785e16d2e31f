"""The admin console's diagnostics: a Test button per fax line and GSM modem (and mail account) runs the same
self-test as the serial console; CSRF applies; a tenant's admin sees none of the site's hardware."""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from appliance.models import Tenant, User
from appliance.security.passwords import hash_password
from tests.appliance.webui.helpers import csrf_from, login, login_admin

TENANT_ADMIN_PW = "Tenant-Diag-Pass-1"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite: the page reads no table of its own; tenant isolation is checked by role here."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


async def modem_up(appliance) -> None:
    sms = appliance.supervisor.service("sms")
    deadline = time.monotonic() + 20
    while sms.runners["gsm-a"].state != "up" or appliance.supervisor.service("fax").lines[0].state != "idle":
        assert time.monotonic() < deadline, "emulated modem or fax line not up"
        await asyncio.sleep(0.1)


async def test_test_buttons_run_the_self_tests(appliance, http, first_boot) -> None:
    await modem_up(appliance)
    await login_admin(http, first_boot.admin_password)
    async with http.get("/admin/diagnostics") as resp:
        page = await resp.text()
    assert resp.status == 200
    assert "fax line fax-a (emu://fax-a)" in page and "GSM modem gsm-a (emu://gsm-a)" in page
    assert re.search(r'id="diag-mail">.*?Nothing configured to test here', page, re.S)
    for source in ("/admin/fax", "/admin/sms"):  # the same test from the line's own page
        async with http.get(source) as resp:
            assert 'action="/admin/diagnostics/' in await resp.text()

    token = await csrf_from(http, "/admin/diagnostics")
    async with http.post("/admin/diagnostics/fax", data={"csrf_token": token, "item": "fax-a"}) as resp:
        page = await resp.text()
    assert resp.status == 200 and "Every step passed." in page
    for step in ("open", "AT", "ATI", r"AT\+FCLASS=\?", r"AT\+FCLASS\?"):
        assert re.search(rf"\n  {step}\s+ok ", page), page
    async with http.post("/admin/diagnostics/sms", data={"csrf_token": token, "item": "gsm-a"},
                         headers={"Accept": "application/json"}) as resp:
        result = await resp.json()
    assert result["failed"] is False and any(re.match(r"  AT\+CSQ\s+ok\s+-\d+ dBm", line) for line in result["lines"])

    await appliance.supervisor.service("sms").emulators()["gsm-a"].unplug()
    while appliance.supervisor.service("sms").runners["gsm-a"].state != "down":
        await asyncio.sleep(0.05)
    async with http.post("/admin/diagnostics/sms", data={"csrf_token": token, "item": "gsm-a"}) as resp:
        page = await resp.text()
    assert "A step failed: see the line marked FAILED." in page and re.search(r"open\s+FAILED\s+down", page)

    async with http.post("/admin/diagnostics/sms", data={"csrf_token": token, "item": "no-such-modem"}) as resp:
        assert resp.status == 404
    async with http.post("/admin/diagnostics/fax", data={"item": "fax-a"}) as resp:
        assert resp.status == 403  # no CSRF token


async def test_a_tenant_admin_sees_no_site_hardware(appliance, http) -> None:
    def make() -> None:
        tenant = Tenant.create(name="Diag tenant")
        User.create(username="diag-admin", password_hash=hash_password(TENANT_ADMIN_PW), role="admin", tenant=tenant)
    await appliance.db.call(make)
    await login(http, "diag-admin", TENANT_ADMIN_PW)
    async with http.get("/admin/diagnostics") as resp:
        page = await resp.text()
    assert resp.status == 200 and "fax-a" not in page and "gsm-a" not in page and 'id="diag-fax"' not in page
    token = await csrf_from(http, "/admin/diagnostics")
    async with http.post("/admin/diagnostics/fax", data={"csrf_token": token, "item": "fax-a"}) as resp:
        assert resp.status == 404
    async with http.post("/admin/diagnostics/mail", data={"csrf_token": token}) as resp:
        assert resp.status == 403  # the relay and every account at once belong to the site
