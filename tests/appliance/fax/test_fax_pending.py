"""Pages kept during a call that never finished are filed on start as a partial fax; a call whose finished fax
already reached the spool is not filed twice (the call id is the idempotency key)."""
from __future__ import annotations

from hardware.fax_modem.t4 import Page
from hardware.fax_modem.tiff import write_tiff

from appliance.fax.pending import PendingFaxes
from appliance.intake.spool import Spool, SpoolEntry
from appliance.services.fax import FaxService
from tests.appliance.fax.test_fax_service import OUR_NUMBER, start_service, stripes

CALL = "0123456789abcdef0123456789abcdef"


def kept_pages(first_boot, pages: list[Page], call_id: str = CALL) -> PendingFaxes:
    pending = PendingFaxes(first_boot.root / "spool" / "fax" / "pending")
    meta = {"modem": "fax-a", "called": OUR_NUMBER, "call_id": call_id, "remote_id": "+4930555"}
    for index, page in enumerate(pages):
        pending.keep(call_id, index, "MCF", write_tiff([page]), meta)
    return pending


async def filed(db):
    from appliance.fax.models import FaxRecord
    from appliance.models import Message
    return await db.call(lambda: [(r.pages, r.complete, Message.get_by_id(r.message_id).subject)
                                  for r in FaxRecord.select()])


async def stop(service, task, db) -> None:
    task.cancel()
    await service.stop()
    db.close()


async def test_kept_pages_of_a_cut_off_call_become_one_partial_fax(first_boot, database_url) -> None:
    pending = kept_pages(first_boot, [stripes(80, 0), stripes(60, 1)])
    db, store, service, task, tenant_id, mailbox_id = await start_service(first_boot, database_url)
    try:
        assert await filed(db) == [(2, False, "Partial fax from +4930555, 2 page(s)")]
        assert pending.leftovers() == []
        await service.stop()
        kept_pages(first_boot, [stripes(80, 0), stripes(60, 1)])  # as if the crash came before they were forgotten
        service = FaxService(service.ctx)
        await service.start()
        assert await filed(db) == [(2, False, "Partial fax from +4930555, 2 page(s)")]
        assert pending.leftovers() == []
    finally:
        await stop(service, task, db)


async def test_a_finished_call_in_the_spool_wins_over_its_kept_pages(first_boot, database_url) -> None:
    pages = [stripes(80, 0), stripes(60, 1), stripes(70, 2)]
    pending = kept_pages(first_boot, pages[:2])
    meta = {"modem": "fax-a", "called": OUR_NUMBER, "remote_id": "+4930555", "ok": True, "reason": "all pages",
            "page_status": ["MCF"] * 3, "call_id": CALL}
    Spool(first_boot.root / "spool", "fax").write([SpoolEntry(write_tiff(pages), "fax:fax-a", meta)])
    db, store, service, task, tenant_id, mailbox_id = await start_service(first_boot, database_url)
    try:
        assert await filed(db) == [(3, True, "Fax from +4930555")]
        assert pending.leftovers() == []
        assert service.health()["spool"]["new"] == 0
    finally:
        await stop(service, task, db)
