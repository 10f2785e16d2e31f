"""Kill -9 in the middle of an inbound multi-page fax: the appliance's modem is an emulated Class 1 modem in this
test process on TCP (so the line outlives the killed appliance), the caller is a second emulated fax machine.
After a restart the pages the caller saw confirmed are on one ticket, marked partial, none twice."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from appliance.datadir import DataDir
from appliance.fax.models import FaxRecord
from appliance.firstboot import initialise
from appliance.models import Mailbox, Message, ServiceAddress, Tenant
from appliance.store import DocumentStore
from hardware.fax_modem.t30 import FaxModem, LineEvent, LineState, Timers
from hardware.fax_modem.t30.emulator import FaxModemEmulator
from hardware.fax_modem.t30.line import Exchange
from hardware.fax_modem.t4 import Page
from hardware.fax_modem.tiff import read_tiff
from tests.appliance.intake.helpers import open_db
from tests.appliance.process import ApplianceProcess
from tests.pg import free_port

OUR_NUMBER = "+4940111333"
CALLER = "+4940999000"
PAGES = 5
KILL_AT_PAGE = 3  # the caller starts sending this page (1-based): the pages before it are confirmed


def dense(seed: int) -> Page:
    """A page with enough detail to take over a second on the emulated line."""
    rows = [bytes(((r * 7 + c * 13 + seed * 31) % 251) & 0xA5 for c in range(216)) for r in range(700)]
    return Page.from_rows(rows, 1728, 196)


def faxes(url: str) -> list[tuple[FaxRecord, str, int]]:
    db = open_db(url)
    try:
        with db.peewee.connection_context():
            return [(r, Message.get_by_id(r.message_id).subject, Message.select().where(
                Message.channel == "fax").count()) for r in FaxRecord.select()]
    finally:
        db.close()


async def test_kill_9_mid_fax_keeps_the_confirmed_pages_once(database_url: str, tmp_path: Path) -> None:
    exchange = Exchange(timescale=0.1)
    ours = FaxModemEmulator(exchange, OUR_NUMBER)
    caller = FaxModemEmulator(exchange, CALLER)
    unregister = caller.register("kill9-caller")
    server = await asyncio.start_server(ours.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    env = {"APPLIANCE_DATA_DIR": str(tmp_path / "data"), "APPLIANCE_DATABASE_URL": database_url,
           "APPLIANCE_WEB_HOST": "127.0.0.1", "APPLIANCE_WEB_PORT": str(free_port()),
           "APPLIANCE_SNMP_PORT": str(free_port()), "APPLIANCE_MAIL_SMTP_ENABLED": "false",
           "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
           "APPLIANCE_FAX_MODEMS": f"tcp://127.0.0.1:{port}", "APPLIANCE_FAX_NUMBERS": OUR_NUMBER}
    initialise(tmp_path / "data", env)
    db = open_db(database_url)
    with db.peewee.connection_context(), db.peewee.atomic():
        tenant = Tenant.create(name="Acme", region="DE")
        box = Mailbox.create(tenant=tenant, name="Fax inbox")
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="fax", value=OUR_NUMBER)
    db.close()
    pages = [dense(i) for i in range(PAGES)]
    loop = asyncio.get_running_loop()
    proc = ApplianceProcess(env, tmp_path)
    log = tmp_path / "appliance.log"
    try:
        await loop.run_in_executor(None, proc.wait_ready, 60)
        deadline = time.monotonic() + 30
        while "AT+FCLASS=1" not in ours.log and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # until the appliance has opened its modem
        assert "AT+FCLASS=1" in ours.log, log.read_text()[-3000:]
        sender = await FaxModem("emu://kill9-caller", "1", local_id=CALLER, timers=Timers().scaled(0.5)).open()
        killed = asyncio.Event()

        def on_event(event: LineEvent) -> None:
            if event.state is LineState.PAGE and event.detail == str(KILL_AT_PAGE) and not killed.is_set():
                proc.kill9()  # SIGKILL while the caller sends this page: the earlier ones are confirmed
                killed.set()
        sender.on_event(on_event)
        try:
            report = await sender.send(OUR_NUMBER, pages)
        finally:
            await sender.close()
        assert killed.is_set(), log.read_text()[-3000:]
        confirmed = report.pages_confirmed
        assert not report.ok and confirmed == KILL_AT_PAGE - 1, report
        assert faxes(database_url) == []  # the call never finished: nothing was filed yet

        proc = ApplianceProcess(env, tmp_path)
        await loop.run_in_executor(None, proc.wait_ready, 60)
        deadline = time.monotonic() + 30
        while not (found := await loop.run_in_executor(None, faxes, database_url)) and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        assert proc.terminate() == 0
        # A second start finds nothing left to replay.
        proc = ApplianceProcess(env, tmp_path)
        await loop.run_in_executor(None, proc.wait_ready, 60)
        await asyncio.sleep(1.0)
        assert proc.terminate() == 0
        found = await loop.run_in_executor(None, faxes, database_url)
        assert len(found) == 1, log.read_text()[-3000:]
        record, subject, messages = found[0]
        assert messages == 1 and record.pages == confirmed and not record.complete
        assert subject == f"Partial fax from {CALLER}, {confirmed} page(s)"
        assert json.loads(record.page_status) == ["MCF"] * confirmed
        data = DataDir(tmp_path / "data")
        store = DocumentStore(data.store, data.read_key(data.store_key))
        assert [d.page for d in read_tiff(store.get(record.tiff))] == pages[:confirmed]
    finally:
        if proc.proc.poll() is None:
            proc.kill9()
        server.close()
        unregister()
