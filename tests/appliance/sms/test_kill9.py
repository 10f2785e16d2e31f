"""Kill -9 during SMS intake: the emulated modem runs in this test process on TCP, so its SIM outlives the
killed appliance; after a restart every message is on a ticket exactly once."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from appliance.firstboot import initialise
from appliance.models import Message
from hardware.gsm.emulator import GsmEmulator
from tests.appliance.intake.helpers import open_db
from tests.appliance.process import ApplianceProcess
from tests.appliance.sms.conftest import SERVICE_NUMBER, make_org
from tests.pg import free_port

SINGLE = 24
LONG_TEXT = "Dieser Text ist zu lang für eine einzige SMS und kommt darum in drei Teilen an. " * 4


def bodies(url: str) -> Counter:
    db = open_db(url)
    try:
        with db.peewee.connection_context():
            return Counter(m.body for m in Message.select(Message.body).where(Message.channel == "sms"))
    finally:
        db.close()


async def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return False


class SlowLine:
    """A reader that lets each command take 20 ms, as a 115200 baud USB stick roughly does, so that the
    deletes of a full SIM take long enough for the kill to land among them."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def read(self, n: int) -> bytes:
        data = await self.reader.read(n)
        await asyncio.sleep(0.02)
        return data

    def feed_eof(self) -> None:
        self.reader.feed_eof()


async def test_kill_9_during_sms_intake_replays_without_duplicates(database_url: str, tmp_path: Path) -> None:
    emu = GsmEmulator()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await emu.serve(SlowLine(reader), writer)
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    env = {"APPLIANCE_DATA_DIR": str(tmp_path / "data"), "APPLIANCE_DATABASE_URL": database_url,
           "APPLIANCE_WEB_HOST": "127.0.0.1", "APPLIANCE_WEB_PORT": str(free_port()),
           "APPLIANCE_SNMP_PORT": str(free_port()), "APPLIANCE_MAIL_SMTP_ENABLED": "false",
           "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
           "APPLIANCE_SMS_MODEMS": f"tcp://127.0.0.1:{port}", "APPLIANCE_SMS_NUMBERS": SERVICE_NUMBER,
           "APPLIANCE_SMS_POLL_S": "1", "APPLIANCE_SMS_REOPEN_MAX_S": "1"}
    initialise(tmp_path / "data", env)
    db = open_db(database_url)
    with db.peewee.connection_context(), db.peewee.atomic():
        make_org("Acme")
    db.close()
    expected = [f"Nachricht {i}: bitte zurückrufen" for i in range(SINGLE)] + [LONG_TEXT]
    for i, text in enumerate(expected):
        emu.inject_sms(text=text, sender=f"+4917012345{i:02d}", reference=i)
    on_sim = sum(len(s) for s in emu.stores.values())
    assert on_sim == SINGLE + 3
    loop = asyncio.get_running_loop()
    proc = ApplianceProcess(env, tmp_path)
    try:
        await loop.run_in_executor(None, proc.wait_ready, 60)
        # Kill as soon as intake is under way: some PDUs spooled and deleted, most still on the SIM.
        assert await wait_for(lambda: emu.deleted >= 3, 30), (tmp_path / "appliance.log").read_text()[-3000:]
        proc.kill9()
        left = sum(len(s) for s in emu.stores.values())
        assert 0 < left < on_sim, "the kill came too late to be during intake"
        proc = ApplianceProcess(env, tmp_path)
        await loop.run_in_executor(None, proc.wait_ready, 60)
        assert await wait_for(lambda: sum(len(s) for s in emu.stores.values()) == 0, 60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = await loop.run_in_executor(None, bodies, database_url)
            if sum(found.values()) >= len(expected):
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(1.0)  # anything duplicated would show up by now
        found = await loop.run_in_executor(None, bodies, database_url)
        assert found == Counter(expected), (tmp_path / "appliance.log").read_text()[-3000:]
        assert proc.terminate() == 0
    finally:
        if proc.proc.poll() is None:
            proc.kill9()
        server.close()
        await emu.unplug()
