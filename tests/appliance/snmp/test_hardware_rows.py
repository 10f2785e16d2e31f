"""The hardware table from the devices the appliance really drives (the emulated fax line and GSM modem of
`make run`), read with net-snmp's snmptable; pulling the GSM modem gives modemLost, plugging it back
modemBack, at a real snmptrapd."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import AsyncIterator

import pytest

from appliance.sms.emulated import plug_in
from tests.appliance.snmp.netsnmp import Trapd, free_udp_port, run, v2c
from tests.appliance.snmp.test_agent import rows

pytestmark = pytest.mark.needs_tool("snmptrapd")
COMMUNITY = "hw-rows-community"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite: the hardware rows come from the drivers, not the database."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
async def trapd(tmp_path: Path) -> AsyncIterator[Trapd]:
    receiver = Trapd(tmp_path, [])
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def app_env(app_env: dict[str, str], trapd: Trapd) -> dict[str, str]:
    return {**app_env, "APPLIANCE_SNMP_HOST": "127.0.0.1", "APPLIANCE_SNMP_PORT": str(free_udp_port()),
            "APPLIANCE_SNMP_COMMUNITY": COMMUNITY, "APPLIANCE_SNMP_TRAP_RECEIVERS": f"127.0.0.1:{trapd.port}",
            "APPLIANCE_SMS_REOPEN_MAX_S": "1"}


async def hardware_table(appliance, wanted: dict[str, str]) -> dict[str, list[str]]:
    """The table once every named device shows the wanted state (the drivers get there on their own)."""
    port = appliance.supervisor.service("snmp").port
    deadline = time.monotonic() + 20
    while True:
        result = await run("snmptable", v2c(COMMUNITY), port, "-Cf", "|", "-Cl", "APPLIANCE-MIB::appHardwareTable")
        assert result.code == 0, result.err
        table = rows(result.out)
        if all(table.get(name, [None, None, None])[2] == state for name, state in wanted.items()):
            return table
        assert time.monotonic() < deadline, result.out
        await asyncio.sleep(0.3)


async def test_rows_follow_the_real_devices(appliance, trapd: Trapd) -> None:
    table = await hardware_table(appliance, {"fax-a": "up", "gsm-a": "up"})
    assert table["fax-a"][:2] == ["faxModem", "emu://fax-a"]
    gsm = table["gsm-a"]
    assert gsm[:2] == ["gsmModem", "emu://gsm-a"]
    # The signal the modem reported (+CSQ), as the SMS page shows it.
    runner = appliance.supervisor.service("sms").runners["gsm-a"]
    assert gsm[3] == f"{runner.signal_dbm} dBm"

    emulator = appliance.supervisor.service("sms").emulators()["gsm-a"]
    await emulator.unplug()
    await hardware_table(appliance, {"gsm-a": "down"})
    await trapd.wait_for(r"APPLIANCE-MIB::modemLost.*?STRING: gsm-a.*?STRING: emu://gsm-a.*?INTEGER: down")
    mark = len(trapd.text())
    plug_in(emulator)
    await hardware_table(appliance, {"gsm-a": "up"})
    await trapd.wait_for(r"APPLIANCE-MIB::modemBack.*?STRING: gsm-a.*?INTEGER: up", after=mark)
