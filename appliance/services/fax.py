"""The fax service: each line waits for calls and files received faxes through the intake pipeline;
the outbox sends faxes from tickets with retries and a transmission report (C5, C11).

Nothing lost: each received page is written to the call's pending entry (fsync) before the sender gets
its confirmation (MCF, or the +FDR that releases it on Class 2); at call end the whole fax is spooled as
TIFF and filed on a ticket. On start, the pages of a call cut off by a crash become a ticket marked as a
partial fax. The call id is the idempotency key, so neither a replayed spool segment nor a replayed
call makes a second ticket.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import logging
import secrets
import time
from typing import Any

from hardware.fax_modem.errors import FaxError, PageConversionError
from hardware.fax_modem.t30 import CallFailed, FaxModem, Timers
from hardware.fax_modem.t30 import LineEvent, LineState, ReceivedPage
from hardware.fax_modem.tiff import TiffError, read_tiff, write_tiff
from hardware.serial.errors import AtError

from appliance.fax.diagnose import check_line
from appliance.fax.intake import CHANNEL, FaxProcessor
from appliance.fax.lines import EmulatedFaxNetwork, FaxLine, build_emulated, parse_lines
from appliance.fax.models import FaxOutbox
from appliance.fax.outbox_view import status_event
from appliance.fax.pending import PendingCall, PendingFaxes
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import SpoolEntry, channel_spool
from appliance.intake.tickets import ModelTicketSink
from appliance.models.auth import utcnow
from appliance.store import StoreError
from appliance.supervisor import Service, ServiceContext

log = logging.getLogger(__name__)

REOPEN_MIN_S, REOPEN_MAX_S = 1.0, 60.0
LISTEN_SLICE_S = 1.0        # a line looks at the outbox between ring checks this often
RETRY_S = (60, 300, 900, 1800)  # back-off between send attempts (busy, no answer, line lost)
MAX_ATTEMPTS = 5


def hardware_key(line_name: str) -> str:
    """The line's name in the shared hardware table (SNMP, /admin), marked as a fax line unless it already says so."""
    return line_name if line_name.startswith("fax") else f"fax-{line_name}"


class FaxService(Service):
    """Lines, intake and outbox of the fax channel."""

    name = "fax"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.lines: list[FaxLine] = []
        self.network: EmulatedFaxNetwork | None = None
        self.pipeline: IntakePipeline | None = None
        self.pending: PendingFaxes | None = None
        self.progress: dict[int, dict[str, Any]] = {}  # outbox id -> the page on the line now, for the desk
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
        self.pending = PendingFaxes(spool.base / "pending")
        loop = asyncio.get_running_loop()
        await self._replay(await loop.run_in_executor(None, self.pending.leftovers),
                           "the appliance stopped during the call")
        await self.ctx.db.call(requeue_interrupted)

    async def run(self) -> None:
        self._tasks = [asyncio.create_task(self._line(line), name=f"fax-{line.name}") for line in self.lines]
        # The T.4 codec (numpy) is left out of start-up and loaded by the first page coded. Loading it here in
        # an executor was tried: numpy's import holds the GIL, so the loop stalled 50-80 ms just the same.
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
        hardware = self.ctx.shared.get("hardware")
        if isinstance(hardware, dict):  # a stopped service watches no line: SNMP shows none
            for line in self.lines:
                hardware.pop(hardware_key(line.name), None)

    def health(self) -> dict[str, Any]:
        p = self.pipeline
        return {"lines": [line.health() for line in self.lines], "emulated": self.network is not None,
                "spool": p.spool.counts() if p else {}, "delivered": p.delivered if p else 0,
                "quarantined": p.quarantined if p else 0}

    def _publish_hardware(self) -> None:
        hardware = self.ctx.shared.setdefault("hardware", {})
        for line in self.lines:
            hardware[hardware_key(line.name)] = line.hardware_row()

    def testable(self) -> list[tuple[str, str]]:
        """(item, label) of each line `diagnose` can test."""
        return [(line.name, f"fax line {line.name} ({line.url})") for line in self.lines]

    async def diagnose(self, item: str | None = None) -> list[str]:
        """Test each line (or the one named `item`) through its open session: AT, ATI, +FCLASS."""
        lines = [line for line in self.lines if item is None or line.name == item]
        if not lines:
            return [f"fax line {item}: no such line" if item else "no fax line is configured (fax.modems)"]
        return [text for line in lines for text in await check_line(line)]

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
                self._announce(job)
                await self._send(line, job)
                continue
            call_id = secrets.token_hex(16)
            try:
                line.state = "idle"
                fax = await line.modem.receive(timeout=LISTEN_SLICE_S, keeper=self._keeper(line, call_id))
            except asyncio.TimeoutError:
                continue
            except CallFailed as exc:
                line.last_error = str(exc)
                await self._replay_call(call_id, f"the call failed: {exc}")
                continue
            except (AtError, FaxError, OSError) as exc:  # the modem went away mid-call: file what was kept
                await self._replay_call(call_id, f"the modem failed during the call: {exc}")
                raise
            line.last_activity = time.time()
            await self._file(line, fax, call_id)

    def _keeper(self, line: FaxLine, call_id: str) -> Any:
        """The T.30 page hook of one call: the page's TIFF on disk before the driver confirms it."""
        meta = {"modem": line.name, "called": line.number, "call_id": call_id, "started": time.time()}
        pending = self.pending
        assert pending is not None

        def write(index: int, page: ReceivedPage, remote_id: str) -> None:
            pending.keep(call_id, index, page.status.name, write_tiff([page.decoded]),
                         {**meta, "remote_id": remote_id})

        async def keep(index: int, page: ReceivedPage, remote_id: str) -> None:
            await asyncio.get_running_loop().run_in_executor(None, write, index, page, remote_id)
        return keep

    async def _file(self, line: FaxLine, fax: Any, call_id: str) -> None:
        pages = [r.page for r in fax.received]
        loop = asyncio.get_running_loop()
        if not pages:
            log.info("fax call on %s brought no page (%s)", line.name, fax.reason)
            await loop.run_in_executor(None, self.pending.finish, call_id)
            return
        raw = await loop.run_in_executor(None, write_tiff, pages)
        meta = {"modem": line.name, "called": line.number, "remote_id": fax.remote_id, "ok": fax.ok,
                "reason": fax.reason, "page_status": [s.name for s in fax.per_page_status], "call_id": call_id}
        await self.pipeline.accept([SpoolEntry(raw, f"fax:{line.name}", meta)])
        # Only now: a crash before this line replays the kept pages, and the call id stops a second ticket.
        await loop.run_in_executor(None, self.pending.finish, call_id)
        line.received += 1
        await self.pipeline.drain()

    async def _replay_call(self, call_id: str, reason: str) -> None:
        loop = asyncio.get_running_loop()
        calls = await loop.run_in_executor(None, self.pending.leftovers)
        await self._replay([c for c in calls if c.call_id == call_id], reason)

    async def _replay(self, calls: list[PendingCall], reason: str) -> None:
        """Spool the kept pages of calls that never finished as partial faxes, then forget the pages."""
        loop = asyncio.get_running_loop()
        for call in calls:
            if call.pages:
                raw, statuses = await loop.run_in_executor(None, join_pages, call)
                meta = {**call.meta, "call_id": call.call_id, "ok": False, "partial": True, "page_status": statuses,
                        "reason": f"{reason} (partial fax, {len(statuses)} page(s))"}
                await self.pipeline.accept([SpoolEntry(raw, f"fax:{call.meta.get('modem', '')}", meta)])
                log.warning("fax call %s was cut off: %d kept page(s) filed as a partial fax", call.call_id,
                            len(statuses))
            await loop.run_in_executor(None, self.pending.finish, call.call_id)
        if calls:
            await self.pipeline.drain()

    async def _send(self, line: FaxLine, job: FaxOutbox) -> None:
        line.state = "sending"
        try:
            from hardware.fax_modem.pages import document_to_pages  # heavy (pdfium); only when sending
            data = self.ctx.store.get(job.document)
            pages = await asyncio.get_running_loop().run_in_executor(None, document_to_pages, data)
            self.progress[job.id] = {"phase": "dialing", "page": 0, "of": len(pages)}
            self._announce(job, self.progress[job.id])
            unsubscribe = line.modem.on_event(lambda event: self._track(job, event))
            try:
                report = await line.modem.send(job.number, pages)
            finally:
                unsubscribe()
        except StoreError as exc:  # the document is gone or unreadable: no retry can mend that
            log.error("fax outbox job %s: %s", job.id, exc)
            self._announce(await self.ctx.db.call(finish_job, job.id, False, f"the fax document cannot be read: {exc}",
                                                  {}, True))
            return
        except PageConversionError as exc:  # not a document we can make pages of: the same on every try
            log.error("fax outbox job %s: %s", job.id, exc)
            self._announce(await self.ctx.db.call(finish_job, job.id, False, str(exc), {}, True))
            return
        except (FaxError, CallFailed) as exc:
            self._announce(await self.ctx.db.call(finish_job, job.id, False, str(exc), {}))
            return
        finally:
            self.progress.pop(job.id, None)
        line.last_activity = time.time()
        line.sent += 1 if report.ok else 0
        data = {"ok": report.ok, "number": report.number, "remote_id": report.remote_id, "reason": report.reason,
                "pages": [{"page": p.index + 1, "status": p.status.name, "attempts": p.attempts} for p in report.pages],
                "pages_confirmed": report.pages_confirmed}
        self._announce(await self.ctx.db.call(finish_job, job.id, report.ok, report.reason or "", data))

    def _announce(self, job: FaxOutbox, progress: dict[str, Any] | None = None) -> None:
        """Tell the desks showing the fax's ticket its state (pushed over their websockets)."""
        event = status_event(job, progress)
        if event is not None:
            self.ctx.bus.publish(event)

    def _track(self, job: FaxOutbox, event: LineEvent) -> None:
        """Which page of an outgoing fax is on the line (the pages before it are confirmed)."""
        progress = self.progress.get(job.id)
        if progress is None:
            return
        progress["phase"] = event.state.value
        if event.state is LineState.PAGE and event.detail.isdigit() and progress["page"] != int(event.detail):
            progress["page"] = int(event.detail)
            self._announce(job, progress)  # a new page on the line: the desk counts along


def join_pages(call: PendingCall) -> tuple[bytes, list[str]]:
    """One TIFF of a cut-off call's kept pages, with their statuses; unreadable pages are left out (a call with
    none readable keeps its first file as it is, so the intake quarantines it with the reason)."""
    pages, statuses = [], []
    for status, tiff in call.pages:
        try:
            pages.extend(read_tiff(tiff))
            statuses.append(status)
        except TiffError as exc:
            log.warning("fax call %s: a kept page is unreadable (%s)", call.call_id, exc)
    if not pages:
        return call.pages[0][1], []
    return write_tiff(pages), statuses


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


def finish_job(job_id: int, ok: bool, error: str, report: dict[str, Any], final: bool = False) -> FaxOutbox:
    """Record the outcome: sent (with the transmission report on the ticket), retried later, or failed (at once
    when `final`: a fault no retry can mend); the row as it is now."""
    from appliance.models import Message
    job = FaxOutbox.get_by_id(job_id)
    if ok:
        FaxOutbox.update(state="sent", sent_at=utcnow(), report=json.dumps(report), last_error="").where(
            FaxOutbox.id == job_id).execute()
    elif final or job.attempts >= MAX_ATTEMPTS:
        FaxOutbox.update(state="failed", last_error=error[:300], report=json.dumps(report)).where(
            FaxOutbox.id == job_id).execute()
    else:
        wait = RETRY_S[min(job.attempts - 1, len(RETRY_S) - 1)]
        FaxOutbox.update(state="queued", last_error=error[:300],
                         next_at=utcnow() + datetime.timedelta(seconds=wait)).where(FaxOutbox.id == job_id).execute()
        return FaxOutbox.get_by_id(job_id)
    if job.ticket_id and job.tenant_id:
        pages = ", ".join(f"page {p['page']}: {p['status']}" for p in report.get("pages", []))
        text = (f"Fax to {job.number} {'sent' if ok else 'failed'} after {job.attempts} attempt(s)"
                f"{': ' + error if error and not ok else ''}. {pages}")
        Message.create(tenant=job.tenant_id, ticket=job.ticket_id, channel="fax", direction="out", kind="report",
                       recipient=job.number, subject=f"Fax transmission report ({job.number})", body=text,
                       source_ref=f"fax-outbox:{job_id}", idempotency_key=f"fax-out:{job_id}",
                       created_at=utcnow())
    return FaxOutbox.get_by_id(job_id)
