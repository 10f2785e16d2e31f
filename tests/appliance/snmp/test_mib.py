"""APPLIANCE-MIB: clean under smilint, and the OIDs the agent uses are the MIB's."""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from appliance.snmp import const
from tests.appliance.snmp.netsnmp import MIB_ARGS, REPO
from tests.tools import require_tool

MIB = REPO / "appliance" / "mib" / "APPLIANCE-MIB.txt"
BASE_MIBS = REPO / "tests" / "data" / "snmp" / "mibs"


def test_smilint_level_3_is_clean() -> None:
    smilint = require_tool("smilint", "smitools")
    env = {**os.environ, "SMIPATH": str(BASE_MIBS)}
    out = subprocess.run([smilint, "-l", "3", "-s", str(MIB)], capture_output=True, text=True, env=env)
    # smilint exits 0 even with findings: its output is the verdict.
    assert out.stdout + out.stderr == "", out.stdout + out.stderr


def test_the_enterprise_number_is_defined_once_and_agrees() -> None:
    text = MIB.read_text()
    numbers = re.findall(r"::= \{ enterprises (\d+) \}", text)
    assert numbers == [str(const.ENTERPRISE_PEN)]
    assert "PLACEHOLDER" in text and "IANA" in text


@pytest.mark.parametrize("name, oid", [
    ("APPLIANCE-MIB::appProductContactCenter", const.PRODUCT),
    ("APPLIANCE-MIB::serviceFailed", const.SERVICE_FAILED),
    ("APPLIANCE-MIB::serviceRecovered", const.SERVICE_RECOVERED),
    ("APPLIANCE-MIB::modemLost", const.MODEM_LOST),
    ("APPLIANCE-MIB::modemBack", const.MODEM_BACK),
    ("APPLIANCE-MIB::quarantineGrowing", const.QUARANTINE_GROWING),
    ("APPLIANCE-MIB::queueServiceLevelLow", const.QUEUE_SERVICE_LEVEL_LOW),
    ("APPLIANCE-MIB::diskLow", const.DISK_LOW),
    ("APPLIANCE-MIB::receiverTest", const.RECEIVER_TEST),
    ("APPLIANCE-MIB::appServiceEntry", const.SERVICE_ENTRY),
    ("APPLIANCE-MIB::appHardwareEntry", const.HARDWARE_ENTRY),
    ("APPLIANCE-MIB::appQueueEntry", const.QUEUE_ENTRY),
    ("APPLIANCE-MIB::appIntakeEntry", const.INTAKE_ENTRY),
    ("APPLIANCE-MIB::appDiskFree", const.APP_SYSTEM + (const.APP_DISK_FREE,)),
    ("APPLIANCE-MIB::appDiskLowThreshold", const.APP_SYSTEM + (const.APP_DISK_LOW_THRESHOLD,)),
    ("APPLIANCE-MIB::appDegraded", const.APP_SYSTEM + (const.APP_DEGRADED,)),
])
def test_agent_oids_match_the_mib(name: str, oid: tuple[int, ...]) -> None:
    translate = require_tool("snmptranslate", "snmp")
    out = subprocess.run([translate, *MIB_ARGS, "-On", name], capture_output=True, text=True)
    assert out.stdout.strip() == "." + ".".join(map(str, oid)), out.stderr


def enumeration(name: str) -> dict[str, int]:
    """The named numbers of an object's SYNTAX, as net-snmp reads the MIB."""
    translate = require_tool("snmptranslate", "snmp")
    out = subprocess.run([translate, *MIB_ARGS, "-Td", f"APPLIANCE-MIB::{name}"],
                         capture_output=True, text=True).stdout
    syntax = re.search(r"SYNTAX\s+INTEGER\s*\{([^}]*)\}", out).group(1)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(\w+)\((\d+)\)", syntax)}


def test_enumerations_match_the_mib() -> None:
    assert enumeration("appServiceState") == const.SERVICE_STATES
    assert enumeration("appHardwareState") == const.DEVICE_STATES
    found = enumeration("appHardwareType")
    camel = {re.sub(r"_(\w)", lambda m: m.group(1).upper(), k): v for k, v in const.DEVICE_KINDS.items()}
    assert found == camel
