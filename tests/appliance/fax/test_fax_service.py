"""The fax service on the emulated line: a fax sent in by the outside machine lands on a ticket of the mailbox
serving the dialled number, with TIFF/PDF/preview kept; a fax queued in the outbox reaches the outside machine
with a transmission report on the ticket."""
from __future__ import annotations

import asyncio
import json

from hardware.fax_modem.pages import pages_to_pdf
from hardware.fax_modem.t4 import Page
from hardware.fax_modem.tiff import read_tiff

from appliance.bus import Bus
from appliance.db import Database
from appliance.fax.lines import EMULATED_REMOTE
from appliance.metrics import Metrics
from appliance.services.fax import FaxService, queue_fax
from appliance.store import DocumentStore
from appliance.supervisor import ServiceContext

OUR_NUMBER = "+4940111333"


def stripes(height: int, seed: int) -> Page:
    rows = [bytes((0xF0 if (r // 5 + c // 4 + seed) % 3 == 0 else 0) for c in range(216)) for r in range(height)]
    return Page.from_rows(rows, 1728, 196)


async def eventually(check, timeout: float = 30.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


async def start_service(first_boot, database_url):
    from appliance.models import Mailbox, ServiceAddress, Tenant
    db = Database(database_url)

    def configure():
        tenant = Tenant.create(name="Acme", region="DE")
        mailbox = Mailbox.create(tenant=tenant, name="Fax inbox")
        ServiceAddress.create(tenant=tenant, mailbox=mailbox, kind="fax", value=OUR_NUMBER)
        return tenant.id, mailbox.id

    tenant_id, mailbox_id = await db.call(configure)
    store = DocumentStore(first_boot.root / "store", bytes(32))
    shared: dict = {}
    service = FaxService(ServiceContext({"modems": "emu://fax-a", "numbers": OUR_NUMBER}, Bus(), db, store,
                                        Metrics(), shared))
    await service.start()
    task = asyncio.create_task(service.run())
    return db, store, service, task, tenant_id, mailbox_id


async def test_received_fax_becomes_a_ticket_with_its_documents(first_boot, database_url) -> None:
    from appliance.fax.models import FaxRecord
    from appliance.models import Ticket
    db, store, service, task, tenant_id, mailbox_id = await start_service(first_boot, database_url)
    try:
        pages = [stripes(120, 0), stripes(80, 1)]
        await eventually(lambda: asyncio.sleep(0, result=service.lines[0].state == "idle"))
        report = await service.network.send_in(OUR_NUMBER, pages)
        assert report.ok and report.pages_confirmed == 2
        record = await eventually(lambda: db.call(lambda: FaxRecord.select().first()))
        ticket = await db.call(Ticket.get_by_id, record.ticket_id)
        assert ticket.channel == "fax" and ticket.tenant_id == tenant_id and ticket.mailbox_id == mailbox_id
        assert record.pages == 2 and json.loads(record.page_status) == ["MCF", "MCF"]
        assert [d.page for d in read_tiff(store.get(record.tiff))] == pages
        assert store.get(record.pdf).startswith(b"%PDF") and store.get(record.preview).startswith(b"\x89PNG")
        assert record.remote_id.strip() == EMULATED_REMOTE
    finally:
        task.cancel()
        await service.stop()
        db.close()


async def test_outbox_fax_reaches_the_outside_machine_with_a_report(first_boot, database_url) -> None:
    from appliance.fax.models import FaxOutbox
    from appliance.models import Message, Ticket
    db, store, service, task, tenant_id, mailbox_id = await start_service(first_boot, database_url)
    try:
        page = stripes(100, 2)
        from appliance.models.auth import utcnow
        ticket = await db.call(lambda: Ticket.create(tenant=tenant_id, subject="Order", channel="fax",
                                                     mailbox=mailbox_id, due_at=utcnow()))
        document = store.put(pages_to_pdf([page]))
        incoming = asyncio.create_task(service.network.receive_out(timeout=60))
        await asyncio.sleep(0.2)
        job_id = await db.call(queue_fax, tenant_id, ticket.id, EMULATED_REMOTE, document)
        fax = await asyncio.wait_for(incoming, 60)
        assert fax.ok and fax.pages == [page] and fax.remote_id.strip() == OUR_NUMBER
        job = await eventually(lambda: db.call(lambda: FaxOutbox.get_or_none(
            (FaxOutbox.id == job_id) & (FaxOutbox.state == "sent"))))
        assert json.loads(job.report)["pages"] == [{"page": 1, "status": "MCF", "attempts": 1}]
        note = await db.call(lambda: Message.get((Message.ticket == ticket.id) & (Message.kind == "report")))
        assert "sent after 1 attempt" in note.body and "page 1: MCF" in note.body
    finally:
        task.cancel()
        await service.stop()
        db.close()


async def test_unreadable_outbox_documents_fail_at_once_and_the_service_keeps_sending(first_boot, database_url) -> None:
    from appliance.fax.models import FaxOutbox
    db, store, service, task, tenant_id, mailbox_id = await start_service(first_boot, database_url)
    try:
        missing = await db.call(queue_fax, tenant_id, None, EMULATED_REMOTE, "ab" * 32)
        not_a_document = await db.call(queue_fax, tenant_id, None, EMULATED_REMOTE, store.put(b"no pages here"))
        for job_id, says in ((missing, "cannot be read"), (not_a_document, "cannot")):
            job = await eventually(lambda: db.call(lambda: FaxOutbox.get_or_none(
                (FaxOutbox.id == job_id) & (FaxOutbox.state == "failed"))))
            assert job.attempts == 1 and says in job.last_error
        page = stripes(60, 3)
        incoming = asyncio.create_task(service.network.receive_out(timeout=60))
        await asyncio.sleep(0.2)
        good = await db.call(queue_fax, tenant_id, None, EMULATED_REMOTE, store.put(pages_to_pdf([page])))
        fax = await asyncio.wait_for(incoming, 60)
        assert fax.ok and fax.pages == [page] and not task.done()
        await eventually(lambda: db.call(lambda: FaxOutbox.get_or_none(
            (FaxOutbox.id == good) & (FaxOutbox.state == "sent"))))
    finally:
        task.cancel()
        await service.stop()
        db.close()
