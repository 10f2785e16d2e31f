"""SMS intake figure: from the (emulated) modem's SIM to committed ticket messages on SQLite.

sms.intake_per_s: +CMGL read → spool fsync per PDU → +CMGD → decode → route → ticket + message committed,
through the same driver, spool and pipeline the service uses. No baseline: no other SMS gateway is
installed to run beside it; the codec alone is `sms.pdu_decode_per_s` (bench_sms).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterable

from bench.figure import figure

N = 200
NUMBER = "+46700000100"


async def _run(tmp: Path) -> float:
    from appliance.db import Database
    from appliance.intake.pipeline import IntakePipeline
    from appliance.intake.spool import Spool, SpoolEntry
    from appliance.intake.tickets import ModelTicketSink
    from appliance.models import Mailbox, ServiceAddress, Tenant
    from appliance.sms.intake import SmsProcessor
    from appliance.store import DocumentStore
    from appliance.sms.modems import ModemRunner, ModemSpec
    from hardware.gsm.driver import GsmModem, StoredMessage
    from hardware.gsm.emulator import GsmEmulator
    from hardware.serial import register_emulator

    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    with db.peewee.connection_context():
        db.migrate()
        tenant = Tenant.create(name="Bench")
        box = Mailbox.create(tenant=tenant, name="SMS", settings=json.dumps({}))
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="sms", value=NUMBER)
    emu = GsmEmulator(capacity=N + 10)
    unregister = register_emulator("bench-gsm", emu)
    for i in range(N):
        text = f"Bitte um Rückruf wegen Auftrag {i}." if i % 5 else "Lange Nachricht. " * 12
        emu.inject_sms(text=text, sender=f"+491701{i:06d}", reference=i % 256)
    pipeline = IntakePipeline(Spool(tmp / "spool", "sms"), db, DocumentStore(tmp / "store", os.urandom(32)),
                              SmsProcessor(ModelTicketSink()))
    modem = await GsmModem.open("emu://bench-gsm", name="bench-gsm")
    await modem.init()

    async def spool(spec: ModemSpec, messages: list[StoredMessage]) -> None:
        await pipeline.accept([SpoolEntry(m.raw, f"gsm:{spec.name}:{m.index}", {"modem": spec.name, "number": NUMBER})
                               for m in messages])

    async def no_reports(spec: ModemSpec, report: object) -> None:
        return None
    runner = ModemRunner(ModemSpec("bench-gsm", "emu://bench-gsm", NUMBER, None), spool, no_reports)
    runner.modem = modem
    start = time.perf_counter()
    await runner.drain()
    await pipeline.drain()
    elapsed = time.perf_counter() - start
    assert pipeline.delivered >= N, pipeline.delivered
    await modem.close()
    unregister()
    db.close()
    return pipeline.delivered / elapsed


def figures() -> Iterable[dict]:
    """sms.intake_per_s."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-sms-"))
    try:
        rate = asyncio.run(_run(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    yield figure("sms.intake_per_s", rate, "PDUs/s", pdus=N)
