"""The SMS service: GSM modems into tickets, replies and notifications out, delivery status back (C10).

Inbound: each modem's runner spools every stored PDU (fsync) and only then lets the driver delete it
from the SIM; the drain loop turns spooled PDUs into ticket messages through the shared intake
pipeline (appliance.sms.intake). Outbound: outbox rows (appliance.sms.outbox) are sent through a
`ModemPool`, preferring the modem whose number the ticket's SMS came in on; status reports update them.
"""
from __future__ import annotations

import asyncio
import datetime
import logging
from typing import Any

from appliance.bus import Event, EventKind
from appliance.intake import quarantine
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import SpoolEntry, channel_spool
from appliance.intake.tickets import ModelTicketSink
from appliance.models.auth import utcnow
from appliance.sms import emulated, http_gateway, mail_gateway, outbox
from appliance.sms.diagnose import check_modem
from appliance.sms.intake import CHANNEL, SmsDelivered, SmsProcessor, pending_parts
from appliance.sms.modems import ModemRunner, ModemSpec, parse_modems
from appliance.sms.outbox import ReportSeen
from appliance.supervisor import Service, ServiceContext
from hardware.gsm.driver import DeliveryReport, GsmModem, ModemPool, StoredMessage
from appliance.sms.errors import SmsConfigError
from hardware.gsm.errors import ModemError, PduError

log = logging.getLogger(__name__)

DRAIN_IDLE_S = 1.0
OUTBOX_INTERVAL_S = 1.0
HOUSEKEEPING_S = 30.0
RETRY_AFTER_DB_ERROR_S = 2.0
POOL_REST_S = 30.0               # a modem that failed a send is skipped this long by the pool
REPORT_RETRIES = 10              # a report can overtake the commit of its own send: try matching again
REPORT_RETRY_S = 1.0


class SmsService(Service):
    """Everything of the SMS channel that runs (see the module docstring)."""

    name = "sms"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        cfg = ctx.config
        self.specs: list[ModemSpec] = []
        self.runners: dict[str, ModemRunner] = {}
        self.pool = ModemPool([], retry_after=POOL_REST_S)
        self.pipeline: IntakePipeline | None = None
        self.processor = SmsProcessor(ModelTicketSink())
        self.status_reports = bool(cfg.get("status_reports", True))
        self.send_attempts = int(cfg.get("send_attempts", 8))
        self.gateway = http_gateway.GatewayConfig.from_config(dict(cfg))
        self.gateway_always = cfg.get("gateway_use", "failover") == "always"
        self.gateway_sent = 0
        self.mail_gateway = str(cfg.get("mail_gateway", "") or "")
        self.mail_gateway_from = str(cfg.get("mail_gateway_from", "") or "")
        self._tasks: list[asyncio.Task] = []
        self._in_flight: dict[int, asyncio.Task] = {}  # outbox row id -> its gateway request
        self.gateway_parallel = int(cfg.get("gateway_parallel", 4))  # gateway requests (tasks) at once
        self.gateway_without_id = 0
        self.gateway_failures = 0
        self.gateway_error, self.gateway_error_at = "", ""
        self.gateway_received = 0       # SMS posted by a gateway to /api/v1/sms/inbound
        self.gateway_reports = 0
        self._report_tasks: set[asyncio.Task] = set()
        self._report_lock = asyncio.Lock()
        self._unregister: list[Any] = []
        self._wake_drain = asyncio.Event()
        self._wake_outbox = asyncio.Event()
        self._scan_after = 0
        self.sent = 0
        self.send_failures = 0
        self.last_send_error = ""
        self.unmatched_reports = 0
        self.parts_waiting = 0

    # --- life ------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Check the modem list, make the emulated modems, open the spool (replaying what a crash left)."""
        cfg, ctx = self.ctx.config, self.ctx
        self.specs = parse_modems(cfg.get("modems", ""), cfg.get("numbers", ""), cfg.get("pins", ""))
        if self.mail_gateway and not (self.gateway is None and mail_gateway.valid_template(self.mail_gateway)
                                      and self.mail_gateway_from):
            raise SmsConfigError("sms.mail_gateway needs sms.mail_gateway_from, an address like "
                                 "{number}@sms.example.net, and no sms.gateway_url (one gateway at a time)")
        spool = channel_spool(ctx.shared, ctx.store.root, CHANNEL)
        self.pipeline = IntakePipeline(spool, ctx.db, ctx.store, self.processor,
                                       ctx.metrics, on_delivered=self._published)
        auto = float(cfg.get("emulator_reports_s", 2.0)) or None
        for spec in self.specs:
            if spec.emulated:
                _, unregister = emulated.emulator_for(ctx.shared, spec.emulator_name, spec.pin, auto)
                self._unregister.append(unregister)
            self.runners[spec.name] = ModemRunner(spec, self._spool, self._report, poll_s=cfg.get("poll_s", 30.0),
                                                  reopen_max_s=cfg.get("reopen_max_s", 60.0),
                                                  on_state=self._state_changed)
        self._register_metrics()
        self._wake_drain.set()

    async def run(self) -> None:
        """Run the modem runners and the loops; beat; a loop that dies takes the service down."""
        self._tasks = [asyncio.create_task(self._drain_loop(), name="sms-drain"),
                       asyncio.create_task(self._outbox_loop(), name="sms-outbox"),
                       asyncio.create_task(self._housekeeping_loop(), name="sms-housekeeping")]
        self._tasks += [asyncio.create_task(r.run(), name=f"sms-modem-{name}") for name, r in self.runners.items()]
        while True:
            self.beat()
            self._publish_hardware()
            for task in self._tasks:
                if task.done():
                    exc = task.exception() if not task.cancelled() else None
                    raise RuntimeError(f"{task.get_name()} ended: {exc!r}")
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        """Stop the loops, close the modems, mark them absent for SNMP."""
        tasks = self._tasks + list(self._report_tasks) + list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for runner in self.runners.values():
            await runner.close()
            runner.state = "down"
        hardware = self.ctx.shared.get("hardware")
        if isinstance(hardware, dict):
            for name in self.runners:
                hardware.pop(name, None)
        for unregister in self._unregister:
            unregister()

    def health(self) -> dict[str, Any]:
        """Per-modem state, spool, intake and outbox figures for the console and /healthz."""
        p = self.pipeline
        return {"modems": [r.health() for r in self.runners.values()],
                "spool": p.spool.counts() if p else {}, "delivered": p.delivered if p else 0,
                "quarantined": p.quarantined if p else 0, "parts_waiting": self.parts_waiting,
                "sent": self.sent, "send_failures": self.send_failures, "last_send_error": self.last_send_error,
                "unmatched_reports": self.unmatched_reports, "gateway": self._gateway_health(),
                "gateway_in": {"http": self.gateway_received}}

    def _gateway_health(self) -> dict[str, Any] | None:
        """The outgoing gateway as a page may show it: the host only (a URL may carry a key), never the auth."""
        if self.gateway is None and not self.mail_gateway:
            return None
        kind = "http" if self.gateway is not None else "mail"
        host = self.gateway.host if self.gateway is not None else self.mail_gateway.rpartition("@")[2]
        return {"kind": kind, "host": host, "use": "always" if self.gateway_always else "failover",
                "sent": self.gateway_sent, "failures": self.gateway_failures, "last_error": self.gateway_error,
                "last_error_at": self.gateway_error_at, "reports": self.gateway_reports,
                "without_id": self.gateway_without_id, "in_flight": len(self._in_flight)}

    # --- modems ----------------------------------------------------------------------------------
    def _state_changed(self, runner: ModemRunner) -> None:
        self.pool.modems = [r.modem for r in self.runners.values() if r.usable and r.modem is not None]
        self._publish_hardware()
        self.ctx.bus.publish(Event(EventKind.HARDWARE_STATE, {"device": runner.spec.name, "type": "gsm_modem",
                                                              "state": runner.state, "error": runner.last_error}))
        if runner.state == "up":
            self._wake_outbox.set()  # rows waiting for a modem can go now

    def _publish_hardware(self) -> None:
        hardware = self.ctx.shared.setdefault("hardware", {})
        for name, runner in self.runners.items():
            hardware[name] = runner.hardware_row()

    def testable(self) -> list[tuple[str, str]]:
        """(item, label) of each modem `diagnose` can test."""
        return [(name, f"GSM modem {name} ({r.spec.url})") for name, r in self.runners.items()]

    async def diagnose(self, item: str | None = None) -> list[str]:
        """Test each modem (or the one named `item`) through its open session: AT, identity, +CSQ, +CREG?."""
        runners = [r for name, r in self.runners.items() if item is None or name == item]
        if not runners:
            return [f"GSM modem {item}: no such modem" if item else "no GSM modem is configured (sms.modems)"]
        return [text for runner in runners for text in await check_modem(runner)]

    def _register_metrics(self) -> None:
        m = self.ctx.metrics
        if m is None:
            return
        for name, r in self.runners.items():
            m.gauge_fn(f"hardware.{name}.up", lambda r=r: 1.0 if r.state == "up" else 0.0, f"GSM modem {name} is up")
            m.gauge_fn(f"hardware.{name}.signal_dbm",
                       lambda r=r: float(r.signal_dbm) if r.signal_dbm is not None else float("nan"),
                       f"GSM modem {name} received signal, dBm")
            m.gauge_fn(f"hardware.{name}.registered", lambda r=r: 1.0 if r.registration in (1, 5) else 0.0,
                       f"GSM modem {name} is registered on a network")
            m.gauge_fn(f"hardware.{name}.received", lambda r=r: float(r.received), f"PDUs read from {name}")
            m.gauge_fn(f"hardware.{name}.sent", lambda r=r: float(r.sent), f"SMS sent on {name}")
            m.gauge_fn(f"hardware.{name}.errors", lambda r=r: float(r.errors), f"errors of {name}")

    # --- intake ----------------------------------------------------------------------------------
    async def _spool(self, spec: ModemSpec, messages: list[StoredMessage]) -> None:
        """Persist PDUs as one spool segment (one fsync) before they are deleted from the SIM."""
        entries = []
        for message in messages:
            meta: dict[str, Any] = {"modem": spec.name, "number": spec.number, "index": message.index}
            if message.pdu is None and message.error == "PDU line is not hex":
                meta["error"] = message.error
            entries.append(SpoolEntry(message.raw, f"gsm:{spec.name}:{message.index}", meta))
        assert self.pipeline is not None
        await self.pipeline.accept(entries)
        self._wake_drain.set()

    async def accept_inbound(self, entry: SpoolEntry) -> None:
        """Spool an SMS from the HTTP gateway durably (fsync), then let the drain deliver it."""
        assert self.pipeline is not None
        await self.pipeline.accept([entry])
        self.gateway_received += 1
        self._wake_drain.set()

    def _published(self, results: list[Any]) -> None:
        for r in results:
            if isinstance(r, ReportSeen):
                self._wake_outbox.set()
            if not isinstance(r, SmsDelivered) or r.duplicate:
                continue
            kind = EventKind.TICKET_CREATED if r.created_ticket else EventKind.MESSAGE_RECEIVED
            self.ctx.bus.publish(Event(kind, {"ticket_id": r.ticket_id, "message_id": r.message_id,
                                              "channel": CHANNEL, "parts": r.parts}, r.tenant_id))

    async def drain_now(self) -> int:
        """Turn everything spooled into ticket messages now; returns how many entries were handled."""
        assert self.pipeline is not None
        return await self.pipeline.drain()

    async def _drain_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake_drain.wait(), DRAIN_IDLE_S)
            except asyncio.TimeoutError:
                pass
            self._wake_drain.clear()
            try:
                await self.drain_now()
            except Exception as exc:  # database or store down: the spool keeps everything, try again
                log.error("sms intake drain failed, will retry: %r", exc)
                await asyncio.sleep(RETRY_AFTER_DB_ERROR_S)

    async def _housekeeping_loop(self) -> None:
        timeout = datetime.timedelta(seconds=self.ctx.config.get("multipart_timeout_s", 3600))
        while True:
            try:
                expired = await self.ctx.db.call(lambda: self.processor.expire(utcnow() - timeout))
                self._published(expired)
                self.parts_waiting = await self.ctx.db.call(pending_parts)
                if self.pipeline is not None:
                    await asyncio.get_running_loop().run_in_executor(None, self.pipeline.spool.prune)
            except Exception as exc:  # the database may be briefly away
                log.warning("sms housekeeping failed: %r", exc)
            await asyncio.sleep(HOUSEKEEPING_S)

    # --- status reports --------------------------------------------------------------------------
    async def _report(self, spec: ModemSpec, report: DeliveryReport) -> None:
        # Matched off the runner's task: the runner goes back to reading the modem at once.
        task = asyncio.create_task(self._apply_report(spec.name, report), name=f"sms-report-{spec.name}")
        self._report_tasks.add(task)
        task.add_done_callback(self._report_tasks.discard)

    async def _apply_report(self, modem: str, report: DeliveryReport) -> None:
        for _ in range(REPORT_RETRIES):
            try:
                async with self._report_lock:  # one at a time: the parts of a message finish in order
                    seen = await self.ctx.db.call(outbox.apply_report, modem, report.reference, report.status,
                                                  report.recipient, report.tag)
            except Exception as exc:  # database away: try again like an unmatched one
                log.warning("sms status report from %s not stored yet: %r", modem, exc)
                seen = None
            if seen is not None and seen.outbox_id is not None:
                log.info("sms outbox %s: status report %#x -> %s", seen.outbox_id, report.status, seen.state)
                try:  # the desk's open ticket shows it at once, as for a gateway's report
                    self._publish_status(await self.ctx.db.call(outbox.show, seen.outbox_id))
                except Exception as exc:  # the report is stored; only the push is lost
                    log.warning("sms outbox %s: status not pushed: %r", seen.outbox_id, exc)
                return
            await asyncio.sleep(REPORT_RETRY_S)
        self.unmatched_reports += 1
        log.warning("sms status report from %s for TP-MR %s (to %s) matches no sent message", modem,
                    report.reference, report.recipient)

    def report_applied(self, row: dict[str, Any]) -> None:
        """A gateway's delivery report changed an SMS: count it and tell the ticket's viewers."""
        self.gateway_reports += 1
        self._publish_status(row)

    def _publish_status(self, row: dict[str, Any]) -> None:
        if row.get("ticket_id"):
            self.ctx.bus.publish(Event(EventKind.SMS_STATUS, {"ticket_id": row["ticket_id"], "sms": {
                "id": row["id"], "message_id": row["message_id"], "state": row["state"],
                "last_error": row["last_error"]}}, row["tenant_id"]))

    # --- outbox ----------------------------------------------------------------------------------
    def wake_outbox(self) -> None:
        """Look at the outbox now (a row was just queued)."""
        self._wake_outbox.set()

    async def _outbox_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake_outbox.wait(), OUTBOX_INTERVAL_S)
            except asyncio.TimeoutError:
                pass
            self._wake_outbox.clear()
            try:
                await self.send_due()
            except Exception as exc:  # database away: rows stay queued
                log.warning("sms outbox pass failed: %r", exc)

    async def send_due(self) -> int:
        """Queue new agent replies, then send every due row once; returns how many the network accepted."""
        _, self._scan_after = await self.ctx.db.call(outbox.scan_replies, self._scan_after)
        modems_up = any(r.usable for r in self.runners.values())
        gateway = self.gateway is not None or bool(self.mail_gateway)
        if not modems_up and not gateway:
            return 0  # no modem at all: rows wait without spending their attempts
        # Taken before the query: a request that ends while it runs has marked its row sent, but the query
        # may have read it still queued.
        busy = set(self._in_flight)
        later = self.gateway is not None and (self.gateway_always or not modems_up)
        if later:
            # Only as many rows as there are free slots (a backlog stays in the database, not in idle tasks);
            # the rows under way are still queued there and come first, hence the extra len(busy).
            free = self.gateway_parallel - len(busy)
            if free <= 0:
                return 0  # a request that ends wakes the loop for the next row
            rows = await self.ctx.db.call(outbox.due, None, free + len(busy))
        else:
            rows = await self.ctx.db.call(outbox.due)
        done = 0
        for row in rows:
            if row.id in busy or row.id in self._in_flight:
                continue  # its gateway request is (or was just) under way
            if later:
                if len(self._in_flight) >= self.gateway_parallel:
                    break  # every slot is taken; the rest keep their order in the database
                self._gateway_later(row.id, row.to_number, row.from_number, row.text)
            elif gateway and (self.gateway_always or not modems_up):
                done += await self._send_gateway(row.id, row.to_number, row.from_number, row.text)
            else:
                done += await self._send_one(row.id, row.to_number, row.from_number, row.text)
        return done

    def _gateway_later(self, row_id: int, to: str, sender: str, text: str) -> None:
        """Hand a row to the HTTP gateway in a task of its own (send_due starts at most gateway_parallel), so
        one slow answer (up to its 30 s timeout) holds up neither the others nor the modems' rows."""
        async def one() -> None:
            try:
                await self._send_gateway(row_id, to, sender, text)
            except Exception as exc:  # database away after the send: the row stays queued and is tried again
                log.warning("sms outbox %s: gateway send not recorded: %r", row_id, exc)
            finally:
                self._in_flight.pop(row_id, None)
                self._wake_outbox.set()  # the next due rows may take this slot
        self._in_flight[row_id] = asyncio.create_task(one(), name=f"sms-gateway-{row_id}")

    async def _send_gateway(self, row_id: int, to: str, sender: str, text: str) -> int:
        """One row through the HTTP(S) gateway, with the modems' attempts, back-off and failed state;
        or handed to the mail outbox for the mail gateway."""
        if self.gateway is None:
            rcpt = await self.ctx.db.call(mail_gateway.hand_over, row_id, self.mail_gateway, self.mail_gateway_from)
            log.info("sms outbox %s: handed to the mail outbox for %s", row_id, rcpt)
            self.sent += 1
            self.gateway_sent += 1
            return 1
        try:
            _, gateway_id = await http_gateway.submit(self.gateway, to, text, sender)
        except http_gateway.GatewayError as exc:
            self.gateway_failures += 1
            self.gateway_error, self.gateway_error_at = str(exc), utcnow().isoformat(timespec="seconds") + "Z"
            return await self._failed(row_id, str(exc), exc.permanent)
        await self.ctx.db.call(outbox.mark_sent_gateway, row_id, http_gateway.NAME, gateway_id)
        if gateway_id is None:
            self.gateway_without_id += 1  # its delivery report cannot be matched: the page says so
        self.sent += 1
        self.gateway_sent += 1
        if self.ctx.metrics is not None:
            self.ctx.metrics.inc("intake.sms.sent")
        return 1

    def _preferred(self, number: str) -> GsmModem | None:
        for runner in self.runners.values():
            if number and runner.spec.number == number and runner.usable:
                return runner.modem
        return None

    async def _send_one(self, row_id: int, to: str, sender: str, text: str) -> int:
        options = {"status_report": self.status_reports, "tag": f"sms-outbox-{row_id}"}
        modem: GsmModem | None = self._preferred(sender)
        try:
            try:
                if modem is None:
                    raise ModemError("no preferred modem")
                result = await modem.send(to, text, **options)
            except ModemError:
                if modem is not None:
                    self.pool.mark_down(modem)
                self.pool.modems = [r.modem for r in self.runners.values() if r.usable and r.modem is not None]
                modem, result = await self.pool.send(to, text, **options)
        except PduError as exc:  # the text itself cannot be sent: trying again will not help
            return await self._failed(row_id, f"cannot be sent as SMS: {exc}", True)
        except ModemError as exc:
            if self.gateway is not None or self.mail_gateway:  # every modem failed it: the gateway is the failover
                log.info("sms outbox %s: modems failed (%s), trying the HTTP gateway", row_id, exc)
                return await self._send_gateway(row_id, to, sender, text)
            return await self._failed(row_id, str(exc), False)
        await self.ctx.db.call(outbox.mark_sent, row_id, modem.name, list(result.references), self.status_reports)
        runner = self.runners.get(modem.name)
        if runner is not None:
            runner.sent += 1
            runner.touch()
        self.sent += 1
        if self.ctx.metrics is not None:
            self.ctx.metrics.inc("intake.sms.sent")
        return 1

    async def _failed(self, row_id: int, error: str, permanent: bool) -> int:
        state = await self.ctx.db.call(outbox.mark_failed, row_id, error, permanent, self.send_attempts)
        self.send_failures += 1
        self.last_send_error = error
        log.warning("sms outbox %s: send failed (%s): %s", row_id, state, error)
        if state == "failed" and self.ctx.metrics is not None:
            self.ctx.metrics.inc("intake.sms.failed")
        return 0

    # --- quarantine (QuarantineOwner) --------------------------------------------------------------
    async def quarantine_raw(self, entry_id: int) -> bytes:
        """The raw PDU of a quarantined SMS."""
        row = await self.ctx.db.call(quarantine.get, entry_id)
        return await asyncio.get_running_loop().run_in_executor(None, self.ctx.store.get, row.digest)

    async def reprocess_quarantined(self, entry_id: int) -> dict[str, Any]:
        """Run a quarantined SMS through intake again (after adding its service number, say)."""
        assert self.pipeline is not None
        return await self.pipeline.reprocess(entry_id)

    # --- the emulated network ------------------------------------------------------------------------
    def emulators(self) -> dict[str, Any]:
        """The emulators of this service's emu:// modems, by modem name."""
        made = emulated.emulators(self.ctx.shared)
        return {s.name: made[s.emulator_name] for s in self.specs if s.emulated and s.emulator_name in made}
