"""The fax service: each line waits for calls and files received faxes through the intake pipeline;
the outbox sends faxes from tickets with retries and a transmission report (C5, C11).

Nothing lost: a received fax is spooled (fsync) as TIFF the moment the call ends, then filed on a ticket;
a crash replays the spool and the TIFF digest stops duplicates. The T.30 page confirmation (MCF) is
given by the modem session before the spool write; see the note in the issue tracker about per-page spooling.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import logging
import time
from typing import Any

from hardware.fax_modem.errors import FaxError
from hardware.fax_modem.t30 import CallFailed, FaxModem, Timers
from hardware.fax_modem.tiff import write_tiff
from hardware.serial.errors import AtError

from appliance.fax.intake import CHANNEL, FaxProcessor
from appliance.fax.lines import EmulatedFaxNetwork, FaxLine, build_emulated, parse_lines
from appliance.fax.models import FaxOutbox
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import SpoolEntry, channel_spool
from appliance.intake.tickets import ModelTicketSink
from appliance.models.auth import utcnow
from appliance.supervisor import Service, ServiceContext

log = logging.getLogger(__name__)

REOPEN_MIN_S, REOPEN_MAX_S = 1.0, 60.0
LISTEN_SLICE_S = 1.0        # a line looks at the outbox between ring checks this often
RETRY_S = (60, 300, 900, 1800)  # back-off between send attempts (busy, no answer, line lost)
MAX_ATTEMPTS = 5


class FaxService(Service):
    """Lines, intake and outbox of the fax channel."""

    name = "fax"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.lines: list[FaxLine] = []
        self.network: EmulatedFaxNetwork | None = None
        self.pipeline: IntakePipeline | None = None
        self._tasks: list[asyncio.Task] = []
        self._outbox_wake = asyncio.Event()
        self.timers = Timers()

    async def start(self) -> None:
        cfg = self.ctx.config
        self.lines = parse_lines(cfg.get("modems", ""), cfg.get("numbers", "+4940111333"), cfg.get("class", "1"))
        if any(line.emulated for line in self.lines):
            self.network = build_emulated(self.lines)
            self.timers = Timers().scaled(0.3)
            self.ctx.shared["fax_network"] = self.network
        spool = channel_spool(self.ctx.shared, self.ctx.store.root, CHANNEL)
        self.pipeline = IntakePipeline(spool, self.ctx.db, self.ctx.store,
                                       FaxProcessor(ModelTicketSink(), self.ctx.store), self.ctx.metrics)
        await self.pipeline.drain()  # what a crash left in the spool
        await self.ctx.db.call(requeue_interrupted)

    async def run(self) -> None:
        self._tasks = [asyncio.create_task(self._line(line), name=f"fax-{line.name}") for line in self.lines]
        while True:
            self.beat()
            self._publish_hardware()
            for task in self._tasks:
                if task.done():
                    raise RuntimeError(f"{task.get_name()} ended: {task.exception() if not task.cancelled() else ''}")
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        for line in self.lines:
            if line.modem is not None:
                await line.modem.close()
        if self.network is not None:
            self.network.close()
            self.ctx.shared.pop("fax_network", None)

    def health(self) -> dict[str, Any]:
        p = self.pipeline
        return {"lines": [line.health() for line in self.lines], "emulated": self.network is not None,
                "spool": p.spool.counts() if p else {}, "delivered": p.delivered if p else 0,
                "quarantined": p.quarantined if p else 0}

    def _publish_hardware(self) -> None:
        hardware = self.ctx.shared.setdefault("hardware", {})
        for line in self.lines:
            hardware[f"fax-{line.name}"] = line.health()

    def wake_outbox(self) -> None:
        """A fax was queued: a free line picks it up now."""
        self._outbox_wake.set()

    # --- one line ---------------------------------------------------------------------------------
    async def _line(self, line: FaxLine) -> None:
        delay = REOPEN_MIN_S
        while True:
            try:
                line.modem = await FaxModem(line.url, line.cls, local_id=line.number, timers=self.timers).open()
                line.state, line.last_error, delay = "idle", "", REOPEN_MIN_S
                await self._serve(line)
            except (AtError, FaxError, OSError) as exc:
                line.state, line.last_error = "down", str(exc)
                log.warning("fax line %s down: %s; reopening in %.0fs", line.name, exc, delay)
            finally:
                if line.modem is not None:
                    await line.modem.close()
                    line.modem = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, REOPEN_MAX_S)

    async def _serve(self, line: FaxLine) -> None:
        while True:
            job = await self.ctx.db.call(claim_job)
            if job is not None:
                await self._send(line, job)
                continue
            try:
                line.state = "idle"
                fax = await line.modem.receive(timeout=LISTEN_SLICE_S)
            except asyncio.TimeoutError:
                continue
            except CallFailed as exc:
                line.last_error = str(exc)
                continue
            line.last_activity = time.time()
            await self._file(line, fax)

    async def _file(self, line: FaxLine, fax: Any) -> None:
        pages = [r.page for r in fax.received]
        if not pages:
            log.info("fax call on %s brought no page (%s)", line.name, fax.reason)
            return
        raw = write_tiff(pages)
        meta = {"modem": line.name, "called": line.number, "remote_id": fax.remote_id, "ok": fax.ok,
                "reason": fax.reason, "page_status": [s.name for s in fax.per_page_status]}
        await self.pipeline.accept([SpoolEntry(raw, f"fax:{line.name}", meta)])
        line.received += 1
        await self.pipeline.drain()

    async def _send(self, line: FaxLine, job: FaxOutbox) -> None:
        line.state = "sending"
        try:
            from hardware.fax_modem.pages import document_to_pages  # heavy (pdfium); only when sending
            data = self.ctx.store.get(job.document)
            pages = await asyncio.get_running_loop().run_in_executor(None, document_to_pages, data)
            report = await line.modem.send(job.number, pages)
        except (FaxError, CallFailed) as exc:
            await self.ctx.db.call(finish_job, job.id, False, str(exc), {})
            return
        line.last_activity = time.time()
        line.sent += 1 if report.ok else 0
        data = {"ok": report.ok, "number": report.number, "remote_id": report.remote_id, "reason": report.reason,
                "pages": [{"page": p.index + 1, "status": p.status.name, "attempts": p.attempts} for p in report.pages],
                "pages_confirmed": report.pages_confirmed}
        await self.ctx.db.call(finish_job, job.id, report.ok, report.reason or "", data)


def requeue_interrupted() -> int:
    """Faxes that were being sent when the appliance stopped go back in the queue."""
    return FaxOutbox.update(state="queued").where(FaxOutbox.state == "sending").execute()


def queue_fax(tenant_id: int | None, ticket_id: int | None, number: str, document: str) -> int:
    """Put a fax in the outbox (the document is already in the store); returns the job id."""
    return FaxOutbox.create(tenant_id=tenant_id, ticket_id=ticket_id, number=number, document=document).id


def claim_job() -> FaxOutbox | None:
    """The oldest due fax, marked as being sent (inside the caller's transaction)."""
    job = (FaxOutbox.select().where((FaxOutbox.state == "queued") & (FaxOutbox.next_at <= utcnow()))
           .order_by(FaxOutbox.next_at).first())
    if job is None:
        return None
    FaxOutbox.update(state="sending", attempts=FaxOutbox.attempts + 1).where(FaxOutbox.id == job.id).execute()
    return FaxOutbox.get_by_id(job.id)


def finish_job(job_id: int, ok: bool, error: str, report: dict[str, Any]) -> None:
    """Record the outcome: sent (with the transmission report on the ticket), retried later, or failed."""
    from appliance.models import Message
    job = FaxOutbox.get_by_id(job_id)
    if ok:
        FaxOutbox.update(state="sent", sent_at=utcnow(), report=json.dumps(report), last_error="").where(
            FaxOutbox.id == job_id).execute()
    elif job.attempts >= MAX_ATTEMPTS:
        FaxOutbox.update(state="failed", last_error=error[:300], report=json.dumps(report)).where(
            FaxOutbox.id == job_id).execute()
    else:
        wait = RETRY_S[min(job.attempts - 1, len(RETRY_S) - 1)]
        FaxOutbox.update(state="queued", last_error=error[:300],
                         next_at=utcnow() + datetime.timedelta(seconds=wait)).where(FaxOutbox.id == job_id).execute()
        return
    if job.ticket_id and job.tenant_id:
        pages = ", ".join(f"page {p['page']}: {p['status']}" for p in report.get("pages", []))
        text = (f"Fax to {job.number} {'sent' if ok else 'failed'} after {job.attempts} attempt(s)"
                f"{': ' + error if error and not ok else ''}. {pages}")
        Message.create(tenant=job.tenant_id, ticket=job.ticket_id, channel="fax", direction="out", kind="report",
                       recipient=job.number, subject=f"Fax transmission report ({job.number})", body=text,
                       source_ref=f"fax-outbox:{job_id}", idempotency_key=f"fax-out:{job_id}",
                       created_at=utcnow())
