"""The intake driver shared by channels: spool, then deliver segment by segment, then mark done."""
from __future__ import annotations

import asyncio
import datetime
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from appliance.intake import quarantine
from appliance.intake.errors import DeferredInput, RejectedInput, SpoolError
from appliance.intake.spool import Spool, SpoolEntry

log = logging.getLogger(__name__)

Listener = Callable[[list[Any]], None]


class Processor(Protocol):
    """A channel's processing in two halves, so parsing and file writes stay out of the database thread."""

    def prepare(self, entry: SpoolEntry) -> Any:
        """Parse and check, no database; raise RejectedInput for input that belongs in quarantine."""
        ...

    def commit(self, entry: SpoolEntry, prepared: Any) -> Any:
        """Turn the prepared input into rows, inside the caller's transaction; returns a result."""
        ...


@dataclass
class _Rejected:
    reason: str


class IntakePipeline:
    """Durable intake of one channel: `accept` spools, `drain` turns pending segments into tickets."""

    def __init__(self, spool: Spool, db: Any, store: Any, process: Processor, metrics: Any = None,
                 on_delivered: Listener | None = None, pool: Any = None) -> None:
        self.spool, self.db, self.store, self.process = spool, db, store, process
        self.pool = pool  # a process pool for the processor's CPU-heavy half, if it offers prepare_batch
        self.metrics = metrics
        self.on_delivered = on_delivered
        self._drain_lock = asyncio.Lock()
        self.delivered = 0
        self.quarantined = 0

    def _inc(self, name: str, amount: int = 1) -> None:
        if self.metrics is not None and amount:
            self.metrics.inc(f"intake.{self.spool.channel}.{name}", amount)

    async def accept(self, entries: list[SpoolEntry]) -> str:
        """Spool entries durably (fsync); returns the segment name. Acknowledge the source after this."""
        segment = await asyncio.get_running_loop().run_in_executor(None, self.spool.write, entries)
        self._inc("received", len(entries))  # the SNMP view reads intake.<channel>.received
        return segment.name

    async def drain(self) -> int:
        """Deliver every pending segment, oldest first; returns how many entries were handled.

        The next segment is read and prepared (parsed, in the pool) while the current one commits.
        """
        async with self._drain_lock:
            handled, names = 0, self.spool.pending()
            ahead = asyncio.ensure_future(self._load(names[0])) if names else None
            for i, name in enumerate(names):
                loaded = await ahead
                ahead = asyncio.ensure_future(self._load(names[i + 1])) if i + 1 < len(names) else None
                try:
                    handled += await self._commit_segment(name, loaded)
                except BaseException:
                    if ahead is not None:
                        ahead.cancel()
                    raise
            return handled

    async def _load(self, name: str) -> tuple[Any, list[Any]] | SpoolError:
        loop = asyncio.get_running_loop()
        try:
            segment = await loop.run_in_executor(None, self.spool.read, name)
        except SpoolError as exc:
            return exc
        return segment, await loop.run_in_executor(None, self._prepare_all, segment.entries)

    async def _commit_segment(self, name: str, loaded: tuple[Any, list[Any]] | SpoolError) -> int:
        loop = asyncio.get_running_loop()
        if isinstance(loaded, SpoolError):
            raw = await loop.run_in_executor(None, self.spool.raw_bytes, name)
            await self.db.call(quarantine.hold, self.store, channel=self.spool.channel, source=f"spool:{name}",
                               reason=f"damaged spool segment: {loaded}", raw=raw)
            await loop.run_in_executor(None, self.spool.mark_damaged, name)
            self._inc("quarantined")
            return 1
        segment, prepared = loaded
        results, held = await self.db.call(self._deliver_all, list(zip(segment.entries, prepared)))
        # Only after the commit: a crash before this line replays the segment, and the keys stop duplicates.
        await loop.run_in_executor(None, self.spool.mark_done, name)
        self.delivered += len(results)
        self.quarantined += held
        self._inc("delivered", len(results))
        self._inc("quarantined", held)
        if self.on_delivered and results:
            self.on_delivered(results)
        return len(segment.entries)

    def _prepare_all(self, entries: list[SpoolEntry]) -> list[Any]:
        batch = getattr(self.process, "prepare_batch", None)
        if batch is None:
            return [self.prepare_one(e) for e in entries]
        try:
            results = batch(entries, self.pool)
        except DeferredInput:
            raise  # the segment stays pending: drain fails and is retried
        except Exception:  # the pool broke (a worker died): do it here, entry by entry
            log.exception("intake channel=%s batch prepare failed; preparing one by one", self.spool.channel)
            return [self.prepare_one(e) for e in entries]
        return [_Rejected(r.reason) if isinstance(r, RejectedInput) else r for r in results]

    def prepare_one(self, entry: SpoolEntry) -> Any:
        """The processor's prepare, with rejections and bugs turned into a quarantine reason."""
        try:
            return self.process.prepare(entry)
        except RejectedInput as exc:
            return _Rejected(exc.reason)
        except DeferredInput:
            raise
        except Exception as exc:  # a parser bug must cost one message a quarantine slot, never the batch
            log.exception("intake channel=%s source=%s prepare failed", self.spool.channel, entry.source)
            return _Rejected(f"internal error while parsing: {exc!r}")

    def _deliver_all(self, pairs: list[tuple[SpoolEntry, Any]]) -> tuple[list[Any], int]:
        results, held = [], 0
        for entry, prepared in pairs:
            outcome = self.deliver_one(entry, prepared)
            if isinstance(outcome, quarantine.QuarantineEntry):
                held += 1
            elif outcome is not None:
                results.append(outcome)
        return results, held

    def deliver_one(self, entry: SpoolEntry, prepared: Any) -> Any:
        """Commit one prepared entry in a savepoint; on rejection or a bug, quarantine it instead."""
        atomic = self.db.peewee.atomic
        try:
            if isinstance(prepared, _Rejected):
                raise RejectedInput(prepared.reason)
            with atomic():
                return self.process.commit(entry, prepared)
        except RejectedInput as exc:
            reason = exc.reason
        except Exception as exc:  # a parser bug must cost one message a quarantine slot, never the batch
            log.exception("intake channel=%s source=%s processing failed", self.spool.channel, entry.source)
            reason = f"internal error while processing: {exc!r}"
        with atomic():
            return quarantine.hold(self.store, channel=self.spool.channel, source=entry.source, reason=reason,
                                   raw=entry.raw, tenant_id=entry.meta.get("tenant_id"), meta=entry.meta,
                                   received_at=entry.received_at)

    async def reprocess(self, entry_id: int) -> dict[str, Any]:
        """Run a quarantined entry through the processor again (after a fix)."""
        def load() -> SpoolEntry:
            row = quarantine.get(entry_id)
            raw = self.store.get(row.digest)
            when = row.received_at.replace(tzinfo=datetime.timezone.utc).timestamp()
            return SpoolEntry(raw, row.source, json.loads(row.meta or "{}"), when)

        entry = await self.db.call(load)
        try:
            prepared = await asyncio.get_running_loop().run_in_executor(None, self.prepare_one, entry)
        except DeferredInput as exc:  # a checker is away: the entry stays held as it was, the answer says why
            shown = await self.db.call(lambda: quarantine.entry_dict(quarantine.get(entry_id)))
            return {**shown, "deferred": exc.reason}

        def work() -> tuple[dict[str, Any], Any]:
            try:
                if isinstance(prepared, _Rejected):
                    raise RejectedInput(prepared.reason)
                with self.db.peewee.atomic():
                    result = self.process.commit(entry, prepared)
            except RejectedInput as exc:
                return quarantine.entry_dict(quarantine.still_failing(entry_id, exc.reason)), None
            except Exception as exc:  # still broken in a new way: keep it held with the new reason
                log.exception("reprocessing quarantine entry %s failed", entry_id)
                reason = f"internal error while processing: {exc!r}"
                return quarantine.entry_dict(quarantine.still_failing(entry_id, reason)), None
            return quarantine.entry_dict(quarantine.resolve(entry_id, describe(result))), result
        shown, result = await self.db.call(work)
        if result is not None and self.on_delivered:
            self.on_delivered([result])
        return shown


def describe(result: Any) -> str:
    """A short text of where a re-processed entry went."""
    ticket = getattr(result, "ticket_id", None)
    message = getattr(result, "message_id", None)
    if ticket is not None:
        return f"ticket {ticket}, message {message}"
    return str(result)[:300]
