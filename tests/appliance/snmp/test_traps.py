"""Notifications received by a real snmptrapd: v2c traps, and v3 authPriv traps."""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import AsyncIterator

import pytest

from appliance.snmp import credentials
from tests.appliance.snmp.netsnmp import Trapd, free_udp_port, run, v2c

pytestmark = pytest.mark.needs_tool("snmptrapd")

COMMUNITY = "trap-test-community"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The agent does not care about the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
async def trapd(tmp_path: Path) -> AsyncIterator[Trapd]:
    """snmptrapd accepting anything (v2c; the v3 test adds its user)."""
    receiver = Trapd(tmp_path, [])
    yield receiver
    await receiver.stop()


def base_env(tmp_path: Path, database_url: str, trapd: Trapd) -> dict[str, str]:
    """The appliance on free ports, sending its notifications to `trapd`."""
    return {
        "APPLIANCE_DATA_DIR": str(tmp_path / "data"),
        "APPLIANCE_DATABASE_URL": database_url,
        "APPLIANCE_WEB_PORT": "0",
        "APPLIANCE_WEB_HOST": "127.0.0.1",
        "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
        "APPLIANCE_SNMP_PORT": str(free_udp_port()),
        "APPLIANCE_SNMP_HOST": "127.0.0.1",
        "APPLIANCE_SNMP_TRAP_RECEIVERS": f"127.0.0.1:{trapd.port}",
        "APPLIANCE_SNMP_QUARANTINE_STEP": "3",
    }


async def wait_state(appliance, name: str, state: str, timeout: float = 10.0) -> None:
    """Until the supervisor shows `name` in `state`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if appliance.supervisor.records[name].state.value == state:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} never reached {state}")


class TestV2c:
    """v2c traps to a receiver configured by host:port, with a community set."""

    @pytest.fixture
    async def app_env(self, database_url: str, tmp_path: Path, trapd: Trapd) -> dict[str, str]:
        await trapd.start()
        # diskLow at once: no data directory has a petabyte free.
        return {**base_env(tmp_path, database_url, trapd), "APPLIANCE_SNMP_COMMUNITY": COMMUNITY,
                "APPLIANCE_SNMP_DISK_LOW_MB": "1000000000"}

    async def test_crash_loop_sends_service_failed_then_recovered(self, appliance, trapd: Trapd) -> None:
        sup = appliance.supervisor
        await wait_state(appliance, "scheduler", "running")
        sup.kill("scheduler")
        await trapd.wait_for(r"snmpTrapOID\.0 = OID: APPLIANCE-MIB::serviceFailed.*?"
                             r"appServiceName\.1 = STRING: scheduler.*?appServiceState\.1 = INTEGER: backoff")
        mark = len(trapd.text())
        await trapd.wait_for(r"APPLIANCE-MIB::serviceRecovered.*?appServiceName\.1 = STRING: scheduler"
                             r".*?appServiceState\.1 = INTEGER: running", after=mark)
        # Now make it crash-loop until the supervisor gives up: one more serviceFailed, state failed.
        while sup.records["scheduler"].state.value != "failed":
            await wait_state(appliance, "scheduler", "running")
            sup.kill("scheduler")
            await asyncio.sleep(0.06)
        failed = await trapd.wait_for(r"APPLIANCE-MIB::serviceFailed[^\n]*?appServiceState\.1 = INTEGER: "
                                      r"failed[^\n]*?appServiceLastError\.1 = STRING: \"?([^\"\n]*)")
        assert "killed" in failed.group(1)
        mark = len(trapd.text())
        await sup.restart("scheduler")
        await trapd.wait_for(r"APPLIANCE-MIB::serviceRecovered.*?STRING: scheduler", after=mark)
        result = await run("snmpget", v2c(COMMUNITY), appliance.supervisor.service("snmp").port,
                           "APPLIANCE-MIB::appServiceState.1", "APPLIANCE-MIB::appServiceRestarts.1")
        assert "appServiceState.1 = INTEGER: running(3)" in result.out
        assert int(result.out.split("Counter32: ")[1].split()[0]) >= 6

    async def test_conditions_send_disk_modem_quarantine_and_queue_notifications(self, appliance,
                                                                               trapd: Trapd) -> None:
        await trapd.wait_for(r"APPLIANCE-MIB::diskLow.*?appDiskFree\.0 = Gauge32: \d+.*?"
                             r"appDiskLowThreshold\.0 = Gauge32: 1000000000")
        hardware = appliance.supervisor.service("snmp").ctx.shared["hardware"]
        # A modem of the test's own: the fax service republishes its real line (fax-a) and would undo our states.
        hardware["fax-t"] = {"type": "fax_modem", "device": "emu://fax-t", "state": "up"}
        await asyncio.sleep(1.2)  # seen up by one poll
        hardware["fax-t"] = {**hardware["fax-t"], "state": "absent"}
        await trapd.wait_for(r"APPLIANCE-MIB::modemLost.*?STRING: fax-t.*?STRING: emu://fax-t.*?"
                             r"appHardwareState\.\d+ = INTEGER: absent")
        hardware["fax-t"] = {**hardware["fax-t"], "state": "busy"}
        await trapd.wait_for(r"APPLIANCE-MIB::modemBack.*?STRING: fax-t.*?INTEGER: busy")
        appliance.metrics.inc("intake.sms.quarantined", 1)
        await asyncio.sleep(1.2)
        appliance.metrics.inc("intake.sms.quarantined", 3)
        await trapd.wait_for(r"APPLIANCE-MIB::quarantineGrowing.*?STRING: sms.*?"
                             r"appIntakeQuarantined\.\d+ = Counter32: 4")
        appliance.metrics.set("queue.support-test.service_level_pct", 55)
        appliance.metrics.set("queue.support-test.service_level_target_pct", 90)
        await trapd.wait_for(r"APPLIANCE-MIB::queueServiceLevelLow.*?STRING: support-test.*?"
                             r"Gauge32: 55 percent.*?Gauge32: 90 percent")
        assert len(re.findall(r"queueServiceLevelLow[^\n]*support-test", trapd.text())) == 1
        assert trapd.text().count("diskLow") == 1  # a steady condition is not repeated


class TestV3:
    """v3 authPriv traps; no community, so v2c gets nothing."""

    @pytest.fixture
    async def app_env(self, database_url: str, tmp_path: Path, trapd: Trapd) -> dict[str, str]:
        # Credentials made before init are kept by init; the receiver must know our engine ID
        # for traps (RFC 3414 §3.1: the sender of a trap is the authoritative engine).
        creds = credentials.generate()
        credentials.save(tmp_path / "data" / "keys" / "snmp.json", creds)
        trapd.conf.write_text(trapd.conf.read_text() + f"createUser -e 0x{creds.engine_id} {creds.user} "
                              f"SHA-256 {creds.auth} AES {creds.priv}\n")
        await trapd.start()
        return base_env(tmp_path, database_url, trapd)

    async def test_v3_trap_on_service_failure_and_no_v2c(self, appliance, trapd: Trapd) -> None:
        await wait_state(appliance, "scheduler", "running")
        appliance.supervisor.kill("scheduler")
        await trapd.wait_for(r"APPLIANCE-MIB::serviceFailed.*?STRING: scheduler")
        await trapd.wait_for(r"APPLIANCE-MIB::serviceRecovered.*?STRING: scheduler")
        port = appliance.supervisor.service("snmp").port
        refused = await run("snmpget", v2c("public"), port, "SNMPv2-MIB::sysDescr.0")
        assert refused.code != 0 and "STRING" not in refused.out


class TestV3Inform:
    """v3 informs: the receiver is authoritative (no engine ID to configure) and acknowledges."""

    @pytest.fixture
    async def app_env(self, database_url: str, tmp_path: Path, trapd: Trapd) -> dict[str, str]:
        creds = credentials.generate()
        credentials.save(tmp_path / "data" / "keys" / "snmp.json", creds)
        trapd.conf.write_text(trapd.conf.read_text() + f"createUser {creds.user} SHA-256 {creds.auth} "
                              f"AES {creds.priv}\n")
        await trapd.start()
        return {**base_env(tmp_path, database_url, trapd), "APPLIANCE_SNMP_TRAP_TYPE": "inform",
                "APPLIANCE_SNMP_DISK_LOW_MB": "1000000000"}

    async def test_inform_is_acknowledged(self, appliance, trapd: Trapd) -> None:
        await trapd.wait_for(r"APPLIANCE-MIB::diskLow")
        snmp = appliance.supervisor.service("snmp")
        deadline = time.monotonic() + 5
        while snmp.health()["notifications_sent"] < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert snmp.health()["notifications_sent"] >= 1  # counted on the receiver's response
        assert snmp.health()["notification_errors"] == 0
