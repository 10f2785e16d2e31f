"""The running appliance answered by real net-snmp clients over v2c and v3 authPriv."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from appliance.snmp import const
from tests.appliance.snmp.netsnmp import V3, free_udp_port, run, v2c

pytestmark = pytest.mark.needs_tool("snmpwalk")

COMMUNITY = "ro-test-community"
OUR_TREE = ".".join(map(str, const.APPLIANCE))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The agent does not care about the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
def app_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The appliance with its SNMP agent on a free port of 127.0.0.1 and a v2c community."""
    return {
        "APPLIANCE_DATA_DIR": str(tmp_path / "data"),
        "APPLIANCE_DATABASE_URL": database_url,
        "APPLIANCE_WEB_PORT": "0",
        "APPLIANCE_WEB_HOST": "127.0.0.1",
        "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
        "APPLIANCE_SNMP_PORT": str(free_udp_port()),
        "APPLIANCE_SNMP_HOST": "127.0.0.1",
        "APPLIANCE_SNMP_COMMUNITY": COMMUNITY,
        "APPLIANCE_SNMP_CONTACT": "noc@example.org",
        "APPLIANCE_SNMP_LOCATION": "rack 4",
    }


def v3_of(appliance) -> V3:
    """The credentials `init` generated."""
    data = json.loads(appliance.data.snmp_keys.read_text())
    return V3(data["user"], data["auth"], data["priv"])


def port_of(appliance) -> int:
    """The port the agent really listens on."""
    return appliance.supervisor.service("snmp").port


def rows(table_output: str) -> dict[str, list[str]]:
    """snmptable -Cf '|' output: first column -> the other columns."""
    out = {}
    for line in table_output.splitlines():
        cells = line.split("|")
        if len(cells) > 2:
            out[cells[0]] = cells[1:]
    return out


async def test_v3_authpriv_tables_show_real_services_and_registered_hardware(appliance) -> None:
    port, creds = port_of(appliance), v3_of(appliance)
    before = {s["name"]: s for s in appliance.supervisor.snapshot()}
    result = await run("snmptable", creds.args(), port, "-Cf", "|", "-Cl", "APPLIANCE-MIB::appServiceTable")
    after = {s["name"]: s for s in appliance.supervisor.snapshot()}
    assert result.code == 0, result.err
    table = rows(result.out)
    assert set(table) - {"appServiceName"} == set(after)
    for name in after:  # a service may change state while the table is read
        assert table[name][0] in (before[name]["state"], after[name]["state"]), (name, table[name])
    assert table["snmp"][0] == "running"
    for name, svc in after.items():
        if svc["state"] == "disabled":  # services not built yet say why
            assert table[name][3] == svc["last_error"]
    # A driver's service registers its device; the agent serves it on the next view.
    appliance.supervisor.service("snmp").ctx.shared["hardware"]["gsm-test"] = {
        "type": "gsm_modem", "device": "emu://gsm-test", "state": "up", "signal_dbm": -71,
        "last_activity": 1_790_000_000.0}
    await asyncio.sleep(0.6)  # past the view's cache time
    result = await run("snmptable", creds.args(), port, "-Cf", "|", "-Cl", "APPLIANCE-MIB::appHardwareTable")
    assert result.code == 0, result.err
    row = rows(result.out)["gsm-test"]
    assert row[:4] == ["gsmModem", "emu://gsm-test", "up", "-71 dBm"]
    assert row[4].startswith("2026-9-21,")  # DateAndTime of 1_790_000_000 UTC


async def test_v3_walk_with_the_mib_loaded_and_v2c_bulkwalk_agree(appliance) -> None:
    appliance.metrics.set("queue.sales-test.waiting", 4)
    appliance.metrics.set("queue.sales-test.service_level_pct", 91.6)
    appliance.metrics.inc("intake.fax.received", 7)
    appliance.metrics.inc("intake.fax.quarantined", 2)
    await asyncio.sleep(0.6)
    port = port_of(appliance)
    result = await run("snmpwalk", v3_of(appliance).args(), port, OUR_TREE)
    assert result.code == 0, result.err
    out = result.out
    assert "APPLIANCE-MIB::appVersion.0 = STRING: 0.1.0" in out
    assert re.search(r"APPLIANCE-MIB::appDiskFree\.0 = Gauge32: [1-9]\d* megabytes", out)
    queue = re.search(r"APPLIANCE-MIB::appQueueName\.(\d+) = STRING: sales-test$", out, re.M).group(1)
    assert f"APPLIANCE-MIB::appQueueWaiting.{queue} = Gauge32: 4 calls" in out
    assert f"APPLIANCE-MIB::appQueueServiceLevel.{queue} = Gauge32: 91 percent" in out
    channel = re.search(r"APPLIANCE-MIB::appIntakeChannel\.(\d+) = STRING: fax$", out, re.M).group(1)
    assert f"APPLIANCE-MIB::appIntakeReceived.{channel} = Counter32: 7" in out
    assert f"APPLIANCE-MIB::appIntakeQuarantined.{channel} = Counter32: 2" in out
    # Exactly the devices the drivers' services registered (none, or the emulated modems).
    devices = set(re.findall(r"appHardwareName\.\d+ = STRING: (\S+)", out))
    assert devices == set(appliance.supervisor.service("snmp").ctx.shared["hardware"])
    degraded = "true(1)" if appliance.supervisor.degraded else "false(2)"
    assert f"APPLIANCE-MIB::appDegraded.0 = INTEGER: {degraded}" in out
    bulk, walk = await asyncio.gather(
        run("snmpbulkwalk", v2c(COMMUNITY), port, "-On", "-Cr25", OUR_TREE + ".1.2"),
        run("snmpwalk", v3_of(appliance).args(), port, "-On", OUR_TREE + ".1.2"))
    assert bulk.code == 0 and walk.code == 0, (bulk.err, walk.err)
    names = lambda text: [line.split(" = ")[0] for line in text.splitlines()]  # noqa: E731
    assert names(bulk.out) == names(walk.out)
    assert len(names(walk.out)) == 5 * len(appliance.supervisor.snapshot())


async def test_v2c_system_group_missing_objects_and_refused_set(appliance) -> None:
    port = port_of(appliance)
    result = await run("snmpget", v2c(COMMUNITY), port, "SNMPv2-MIB::sysObjectID.0",
                       "SNMPv2-MIB::sysContact.0", "SNMPv2-MIB::sysLocation.0", "SNMPv2-MIB::sysDescr.0",
                       "SNMPv2-MIB::sysUpTime.0", "SNMPv2-MIB::sysName.0")
    assert result.code == 0, result.err
    assert "sysObjectID.0 = OID: APPLIANCE-MIB::appProductContactCenter" in result.out
    assert "sysContact.0 = STRING: noc@example.org" in result.out
    assert "sysLocation.0 = STRING: rack 4" in result.out
    assert "sysDescr.0 = STRING: Contact-center appliance 0.1.0" in result.out
    assert re.search(r"sysUpTime\.0 = Timeticks: \(\d+\)", result.out)
    missing = await run("snmpget", v2c(COMMUNITY), port, "-On", OUR_TREE + ".1.2.1.2.999", OUR_TREE + ".1.9.1.0")
    assert "No Such Instance" in missing.out and "No Such Object" in missing.out
    refused = await run("snmpset", v3_of(appliance).args(), port, "SNMPv2-MIB::sysContact.0", "s", "attacker")
    assert refused.code != 0
    assert "notWritable" in refused.err + refused.out or "noAccess" in refused.err + refused.out
    check = await run("snmpget", v3_of(appliance).args(), port, "SNMPv2-MIB::sysContact.0")
    assert "noc@example.org" in check.out


async def test_wrong_credentials_get_no_data_and_are_counted(appliance) -> None:
    port, creds = port_of(appliance), v3_of(appliance)
    digests = ".".join(map(str, const.USM_STATS_WRONG_DIGESTS))
    before = await run("snmpget", creds.args(), port, "-On", "-Ov", digests)
    assert before.code == 0, before.err
    wrong = V3(creds.user, "not-the-password", creds.priv)
    refused = await run("snmpwalk", wrong.args(), port, OUR_TREE)
    assert refused.code != 0
    assert "APPLIANCE-MIB::" not in refused.out
    assert "Authentication failure" in refused.err
    after = await run("snmpget", creds.args(), port, "-On", "-Ov", digests)
    count = lambda r: int(r.out.strip().split()[-1])  # noqa: E731
    assert count(after) > count(before)
    unknown = await run("snmpget", V3("intruder", creds.auth, creds.priv).args(), port, "SNMPv2-MIB::sysDescr.0")
    assert unknown.code != 0 and "sysDescr" not in unknown.out
    community = await run("snmpget", v2c("public"), port, "SNMPv2-MIB::sysDescr.0")
    assert community.code != 0 and "STRING" not in community.out
    # The right user without privacy: USM refuses a level below the user's (RFC 3414 §3.2 step 5).
    no_priv = await run("snmpget", creds.args("authNoPriv"), port, "SNMPv2-MIB::sysDescr.0")
    assert no_priv.code != 0 and "STRING" not in no_priv.out
    assert "Unsupported security level" in no_priv.err
