"""Trap receivers set up in the admin console over HTTPS reach a real snmptrapd: the test notification and a
service failure arrive, removing the receiver stops them, its secrets are sealed and never shown back."""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import AsyncIterator

import pytest

from appliance.models.snmp import TrapReceiver
from tests.appliance.snmp.netsnmp import Trapd, free_udp_port, run, V3, v2c
from tests.appliance.webui.helpers import csrf_from, login_admin

pytestmark = pytest.mark.needs_tool("snmptrapd")

COMMUNITY = "rcv-community-7"
V3_USER, V3_AUTH, V3_PRIV = "nms-station", "auth-pass-phrase-1", "priv-pass-phrase-2"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite: the receivers' rows are covered on PostgreSQL by tests/appliance/snmp/test_receivers.py."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
async def console_trapd(tmp_path: Path) -> AsyncIterator[Trapd]:
    """The receiver the admin adds in the console."""
    workdir = tmp_path / "console-trapd"
    workdir.mkdir()
    receiver = Trapd(workdir, [])
    yield receiver
    await receiver.stop()


@pytest.fixture
async def witness(tmp_path: Path) -> AsyncIterator[Trapd]:
    """A receiver from the configuration key: it sees every notification, so it tells when one was sent."""
    workdir = tmp_path / "witness"
    workdir.mkdir()
    receiver = Trapd(workdir, [])
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def app_env(app_env: dict[str, str], witness: Trapd) -> dict[str, str]:
    """v2c notifications to the witness (the agent's own community), console receivers added at run time."""
    return {**app_env, "APPLIANCE_SNMP_HOST": "127.0.0.1", "APPLIANCE_SNMP_PORT": str(free_udp_port()),
            "APPLIANCE_SNMP_COMMUNITY": "agent-read-community",
            "APPLIANCE_SNMP_TRAP_RECEIVERS": f"127.0.0.1:{witness.port}"}


async def wait_running(appliance, name: str) -> None:
    """Until the supervisor shows the service running."""
    deadline = time.monotonic() + 10
    while appliance.supervisor.records[name].state.value != "running":
        assert time.monotonic() < deadline, f"{name} never ran"
        await asyncio.sleep(0.02)


async def post(http, path: str, data: dict) -> tuple[int, str, str]:
    """A form post with the page's CSRF token; (status, Location, body)."""
    data = {"csrf_token": await csrf_from(http, "/admin/snmp"), **data}
    async with http.post(path, data=data, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


async def fail_and_recover(appliance, witness: Trapd) -> int:
    """Make the scheduler fail once; returns the witness log offset before it (both notifications seen)."""
    await wait_running(appliance, "scheduler")
    mark = len(witness.text())
    appliance.supervisor.kill("scheduler")
    await witness.wait_for(r"serviceFailed.*?STRING: scheduler", after=mark)
    await witness.wait_for(r"serviceRecovered.*?STRING: scheduler", after=mark)
    return mark


async def test_v2c_receiver_added_tested_and_removed(appliance, http, first_boot, console_trapd: Trapd,
                                                     witness: Trapd) -> None:
    await console_trapd.start()
    await login_admin(http, first_boot.admin_password)
    async with http.get("/admin/snmp") as resp:
        assert resp.status == 200 and 'id="no-receivers"' not in await resp.text()  # the witness is listed

    status, _, body = await post(http, "/admin/snmp/receivers", {"name": "nms", "host": "no host!", "port": "70000",
                                                                  "version": "v2c", "enabled": "on"})
    assert status == 400
    for field, text in (("host", "must be a host name or an IP address"), ("port", "must be a UDP port 1–65535"),
                        ("community", "is required for v2c")):
        assert re.search(rf'id="e-{field}">[^<]*{re.escape(text)}', body), field
    assert await appliance.db.call(TrapReceiver.select().count) == 0

    status, location, _ = await post(http, "/admin/snmp/receivers", {
        "name": "nms", "host": "127.0.0.1", "port": str(console_trapd.port), "version": "v2c",
        "community": COMMUNITY, "enabled": "on"})
    assert (status, location) == (302, "/admin/snmp?notice=added")
    row = await appliance.db.call(TrapReceiver.get)
    assert row.community_sealed.startswith("s1:") and COMMUNITY not in row.community_sealed
    async with http.get("/admin/snmp") as resp:
        page = await resp.text()
    assert "nms" in page and COMMUNITY not in page and f"set ({len(COMMUNITY)} characters ending …-7)" in page

    status, _, body = await post(http, f"/admin/snmp/receivers/{row.id}/test", {})
    assert status == 200 and "receiverTest sent to 127.0.0.1" in body
    await console_trapd.wait_for(r"APPLIANCE-MIB::receiverTest.*?appVersion\.0 = STRING")
    assert "receiverTest" not in witness.text()  # the test goes to the one receiver only

    mark = await fail_and_recover(appliance, witness)
    await console_trapd.wait_for(r"serviceFailed.*?STRING: scheduler")
    # The receiver's community only sends: it reads nothing.
    port = appliance.supervisor.service("snmp").port
    refused = await run("snmpget", v2c(COMMUNITY), port, "SNMPv2-MIB::sysDescr.0")
    assert "STRING" not in refused.out

    status, location, _ = await post(http, f"/admin/snmp/receivers/{row.id}/delete", {})
    assert (status, location) == (302, "/admin/snmp?notice=deleted")
    seen = len(console_trapd.text())
    await fail_and_recover(appliance, witness)
    # The witness got both notifications of the second failure; the removed receiver none of them.
    assert "serviceFailed" not in console_trapd.text()[seen:]
    assert mark < len(witness.text())


async def test_v3_receiver_with_its_own_user(appliance, http, first_boot, console_trapd: Trapd,
                                             witness: Trapd) -> None:
    engine_id = appliance.supervisor.service("snmp").agent.settings.v3.engine_id
    # RFC 3414 §3.1: the sender of a trap is authoritative, so the receiver knows our engine ID.
    console_trapd.conf.write_text(console_trapd.conf.read_text() + f"createUser -e 0x{engine_id} {V3_USER} "
                                  f"SHA-256 {V3_AUTH} AES {V3_PRIV}\n")
    await console_trapd.start()
    await login_admin(http, first_boot.admin_password)
    async with http.get("/admin/snmp") as resp:
        assert f"0x{engine_id}" in await resp.text()  # what the page tells the admin to configure

    status, _, body = await post(http, "/admin/snmp/receivers", {
        "name": "nms v3", "host": "localhost", "port": str(console_trapd.port), "version": "v3",
        "v3_user": V3_USER, "auth": "short", "priv": V3_PRIV, "enabled": "on"})
    assert status == 400 and "the authentication passphrase must have 8–128 characters" in body
    assert V3_PRIV not in body  # a secret typed into a refused form is not sent back either

    status, _, _ = await post(http, "/admin/snmp/receivers", {
        "name": "nms v3", "host": "localhost", "port": str(console_trapd.port), "version": "v3",
        "v3_user": V3_USER, "auth": V3_AUTH, "priv": V3_PRIV, "enabled": "on"})
    assert status == 302
    row = await appliance.db.call(TrapReceiver.get)
    assert V3_AUTH not in row.auth_sealed and V3_PRIV not in row.priv_sealed

    # An edit with the passphrases left empty keeps them.
    status, _, _ = await post(http, f"/admin/snmp/receivers/{row.id}", {
        "name": "nms v3", "host": "127.0.0.1", "port": str(console_trapd.port), "version": "v3",
        "v3_user": V3_USER, "auth": "", "priv": "", "enabled": "on"})
    assert status == 302
    status, _, body = await post(http, f"/admin/snmp/receivers/{row.id}/test", {})
    assert status == 200, body
    await console_trapd.wait_for(r"APPLIANCE-MIB::receiverTest")
    await fail_and_recover(appliance, witness)
    await console_trapd.wait_for(r"serviceFailed.*?STRING: scheduler")
    # The receiver's user may send, not read.
    port = appliance.supervisor.service("snmp").port
    refused = await run("snmpget", V3(V3_USER, V3_AUTH, V3_PRIV).args(), port, "SNMPv2-MIB::sysDescr.0")
    assert "STRING" not in refused.out

    # Disabled: the test button says so and nothing is sent.
    status, _, _ = await post(http, f"/admin/snmp/receivers/{row.id}", {
        "name": "nms v3", "host": "127.0.0.1", "port": str(console_trapd.port), "version": "v3",
        "v3_user": V3_USER})
    assert status == 302
    status, _, body = await post(http, f"/admin/snmp/receivers/{row.id}/test", {})
    assert status == 409 and "this receiver is disabled: enable it first" in body
    # Its user is gone from the agent with it: the station's keys are now simply unknown.
    gone = await run("snmpget", V3(V3_USER, V3_AUTH, V3_PRIV).args(), port, "SNMPv2-MIB::sysDescr.0")
    assert "STRING" not in gone.out and "Unknown user name" in gone.err, gone.err


async def test_a_tenant_admin_cannot_see_or_change_receivers(appliance, http) -> None:
    from appliance.models import Tenant, User
    from appliance.security.passwords import hash_password
    from tests.appliance.webui.helpers import login

    def make() -> int:
        tenant = Tenant.create(name="Other company")
        User.create(username="other-admin", password_hash=hash_password("Other-Admin-Pass-1"), role="admin",
                    tenant=tenant)
        return TrapReceiver.create(name="site nms", host="192.0.2.7", port=162, version="v2c").id
    receiver_id = await appliance.db.call(make)
    await login(http, "other-admin", "Other-Admin-Pass-1")
    async with http.get("/admin/snmp") as resp:
        assert resp.status == 403 and "site nms" not in await resp.text()
    token = await csrf_from(http, "/admin/diagnostics")
    for path in ("/admin/snmp/receivers", f"/admin/snmp/receivers/{receiver_id}/delete",
                 f"/admin/snmp/receivers/{receiver_id}/test"):
        async with http.post(path, data={"csrf_token": token, "name": "x", "host": "192.0.2.8"},
                             allow_redirects=False) as resp:
            assert resp.status == 403, path
    assert await appliance.db.call(TrapReceiver.select().count) == 1
