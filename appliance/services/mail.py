"""The mail service: account fetchers, the inbound SMTP listener, intake draining and the outbox sender."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import hashlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from appliance.bus import Event, EventKind
from appliance.intake import quarantine
from appliance.intake.errors import DeferredInput
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import channel_spool
from appliance.intake.tickets import ModelTicketSink
from appliance.mail import diagnose, outbox, spam
from appliance.mail.errors import MailError
from appliance.mail.fetcher import AccountFetcher
from appliance.mail.intake import MailDelivered, MailProcessor, MailSettings, intake_pool, warm_pool
from appliance.mail import credentials
from appliance.mail.models import MailAccount
from appliance.mail.smime import SmimeInbound
from appliance.mail.smtp_in import InboundHandler, start_listener
from appliance.mail.smtp_out import RelayConfig, SendError, parse_relay_url, send
from appliance.mail.sources import ServerConfig
from appliance.mail.virus import scanner_from_config
from appliance.models import ServiceAddress
from appliance.models.access.mail_content import MailContent
from appliance.models.auth import utcnow
from appliance.security.secrets import SecretBox, SecretError
from appliance.sms import inbound_mail
from appliance.supervisor import Service, ServiceContext

log = logging.getLogger(__name__)

ACCOUNTS_RELOAD_S = 5.0
DRAIN_IDLE_S = 1.0
OUTBOX_INTERVAL_S = 2.0
RETRY_AFTER_DB_ERROR_S = 2.0
FETCH_THREADS = 8
STOP_WAIT_S = 8.0
DIAGNOSE_TIMEOUT_S = 8.0


class MailService(Service):
    """Everything of the mail channel that runs; see appliance.mail for the parts."""

    name = "mail"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        cfg = ctx.config
        self.scanner = scanner_from_config(cfg.get("clamd", ""), cfg.get("virus_fail", "closed"),
                                           cfg.get("clamd_timeout_s", 60.0))
        self.settings = MailSettings(spam_threshold=cfg.get("spam_threshold", 5.0), spamc_path=cfg.get("spamc", ""),
                                     spamd=cfg.get("spamd", ""),
                                     sender_limit_per_hour=cfg.get("sender_limit_per_hour", 30),
                                     virus_scanner=self.scanner)
        self.virus_status = "not configured: no virus check (set [mail] clamd)" if self.scanner is None else "unknown"
        self.deferred = ""  # why intake waits (fail-closed virus check), "" when it does not
        self.relay: RelayConfig | None = None
        self.relay_error = ""
        if cfg.get("relay_url"):
            try:
                self.relay = parse_relay_url(cfg["relay_url"], cfg.get("relay_ca_file", ""),
                                             cfg.get("relay_pin_sha256", ""))
            except MailError as exc:
                self.relay_error = str(exc)
        self.executor: ThreadPoolExecutor | None = None
        self.pool: Any = None
        self.pipeline: IntakePipeline | None = None
        self.server: asyncio.AbstractServer | None = None
        self.smtp_port: int | None = None
        self.smtp_error = ""
        self.fetchers: dict[int, tuple[str, AccountFetcher, asyncio.Task]] = {}
        self._tasks: list[asyncio.Task] = []
        self._pool_warming: asyncio.Future | None = None
        self._wake_drain = asyncio.Event()
        self._wake_outbox = asyncio.Event()
        self.sent = 0
        self.send_failures = 0
        self.last_send_error = ""

    # --- life ------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the spool (replaying what a crash left), start the SMTP listener."""
        ctx = self.ctx
        self.executor = ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="mail")
        data = ctx.shared["data_dir"]
        self.box = SecretBox(await asyncio.get_running_loop().run_in_executor(None, data.read_key, data.store_key))
        sealed = await ctx.db.call(credentials.seal_plaintext, self.box)
        if sealed:
            log.info("mail: sealed %d password(s)/key(s) that were stored in plain text", sealed)
        processor = self.processor = MailProcessor(ctx.store, ModelTicketSink(), self.settings,
                                                   smime=SmimeInbound(await ctx.db.call(credentials.smime_keys,
                                                                                        self.box)),
                                                   content=MailContent(ctx.store))
        processor.secrets = self.box
        self.pool = intake_pool()  # DESIGN.md: CPU-heavy work (MIME parsing of fetched batches) off the loop
        spool = channel_spool(ctx.shared, ctx.store.root, "mail")
        self.pipeline = IntakePipeline(spool, ctx.db, ctx.store, processor, ctx.metrics,
                                       on_delivered=self._published, pool=self.pool)
        self.smtp_handler = InboundHandler(self.pipeline.accept, self._is_service_address, self._wake_drain.set)
        await self._listen()
        await self._check_scanner()
        self._wake_drain.set()  # replay the spool at once

    async def _listen(self) -> None:
        """Start the SMTP listener; a busy port is reported and retried, it must not stop IMAP/POP3 intake."""
        cfg = self.ctx.config
        if self.server is not None or not cfg.get("smtp_enabled", True):
            return
        try:
            self.server = await start_listener(self.smtp_handler, cfg.get("smtp_host", "0.0.0.0"), cfg["smtp_port"],
                                               self.ctx.shared.get("ssl_context"), cfg.get("smtp_hostname", ""),
                                               cfg.get("max_message_mb", 50) * 1024 * 1024)
        except OSError as exc:
            self.smtp_error = f"cannot listen on port {cfg['smtp_port']}: {exc.strerror or exc}"
            log.error("mail smtp listener: %s (retrying)", self.smtp_error)
            return
        self.smtp_port, self.smtp_error = self.server.sockets[0].getsockname()[1], ""

    async def run(self) -> None:
        """Run the loops; beat; a loop that dies takes the service down for the supervisor to restart."""
        self._tasks = [asyncio.create_task(self._drain_loop(), name="mail-drain"),
                       asyncio.create_task(self._accounts_loop(), name="mail-accounts"),
                       asyncio.create_task(self._outbox_loop(), name="mail-outbox")]
        while True:
            self.beat()
            for task in self._tasks:
                if task.done():
                    exc = task.exception() if not task.cancelled() else None
                    raise RuntimeError(f"{task.get_name()} ended: {exc!r}")
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        """Stop fetchers and loops, close the listener."""
        tasks = self._tasks + [t for _, _, t in self.fetchers.values()]
        for task in tasks:
            task.cancel()
        if tasks:  # fetchers finish their server round trip (≤ an IDLE slice) and log out
            await asyncio.wait(tasks, timeout=STOP_WAIT_S)
        self.fetchers.clear()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def health(self) -> dict[str, Any]:
        """Per-account status, spool, SMTP, outbox and spam-filter state for the console."""
        p = self.pipeline
        return {
            "smtp_port": self.smtp_port,
            "smtp_error": self.smtp_error,
            "accounts": [f.status.as_dict() for _, f, _ in self.fetchers.values()],
            "spool": p.spool.counts() if p else {},
            "delivered": p.delivered if p else 0,
            "quarantined": p.quarantined if p else 0,
            "relay": (f"{self.relay.security}://{self.relay.host}:{self.relay.port}" if self.relay
                      else self.relay_error or "not configured: replies wait in the outbox"),
            "sent": self.sent, "send_failures": self.send_failures, "last_send_error": self.last_send_error,
            "virus": self._virus_health(),
            "deferred": self.deferred,
            "spamc": self._spamc_health(),
        }

    def _spamc_health(self) -> str:
        path = self.settings.spamc_path
        if not path:
            return "not configured: our own rules only (set [mail] spamc)"
        if not spam.spamc_available(path):
            return f"not installed: {path} (Debian package spamc)"
        # What spamd said about the last mail: being installed does not mean spamd answers.
        last = self.pipeline.process.spamc_status if self.pipeline else ""
        if last == "ok":
            return f"ok: spamd at {self.settings.spamd or 'localhost:783'} scored the last mail"
        return last or "installed; no mail checked yet"

    def _virus_health(self) -> dict[str, Any]:
        if self.scanner is None:
            return {"state": "off", "text": self.virus_status}
        mode = "fail-closed" if self.scanner.fail_closed else "fail-open"
        ok = self.virus_status.startswith("ok")
        return {"state": "ok" if ok else "error", "mode": mode, "text": self.virus_status,
                "effect": "" if ok else ("new mail waits in the spool until clamd answers" if self.scanner.fail_closed
                                         else "new mail is delivered unchecked, flagged 'unscanned'")}

    async def _check_scanner(self) -> None:
        if self.scanner is not None:
            loop = asyncio.get_running_loop()
            self.virus_status = await loop.run_in_executor(self.executor, self.scanner.ping)

    # --- self-test (console diagnostics, admin "Test" buttons) ----------------------------------
    def testable(self) -> list[tuple[str, str]]:
        """(item, label) of what `diagnose` can test one by one: each running account, the relay."""
        items = [(str(aid), f"mail account {f.name} ({f.protocol} {f.conf.host})")
                 for aid, (_, f, _) in sorted(self.fetchers.items())]
        if self.relay is not None:
            items.append(("relay", f"mail relay {self.relay.security}://{self.relay.host}:{self.relay.port}"))
        return items

    async def diagnose(self, item: str | None = None) -> list[str]:
        """Test each running account step by step, then the relay (or only the account id / "relay" `item`)."""
        loop = asyncio.get_running_loop()
        if item == "relay" or item is None:
            relay = await self._diagnose_relay(loop)
            if item == "relay":
                return relay
        running = {str(aid): f for aid, (_, f, _) in self.fetchers.items()}
        if item is not None and item not in running:
            return [f"account #{item}: not tested: it is disabled, its password cannot be opened, or the mail "
                    f"service has not loaded it yet (it reloads accounts every {ACCOUNTS_RELOAD_S:.0f} s)"]
        chosen = [running[item]] if item is not None else list(running.values())
        # Short timeouts: a console waits for the answer, and a dead server should say so soon.
        jobs = [loop.run_in_executor(None, diagnose.check_account, f.name, f.protocol,
                                     dataclasses.replace(f.conf, timeout_s=DIAGNOSE_TIMEOUT_S)) for f in chosen]
        lines = [line for result in await asyncio.gather(*jobs) for line in result]
        if item is not None:
            return lines
        if not chosen:
            lines.append("no mail account is active: nothing is fetched (add one on the admin page Mail)")
        return lines + relay

    async def _diagnose_relay(self, loop: asyncio.AbstractEventLoop) -> list[str]:
        if self.relay is None:
            return [f"relay: {self.relay_error or 'not configured (mail.relay_url): replies wait in the outbox'}"]
        return await loop.run_in_executor(None, diagnose.check_relay,
                                          dataclasses.replace(self.relay, timeout_s=DIAGNOSE_TIMEOUT_S))

    # --- intake ----------------------------------------------------------------------------------
    async def _is_service_address(self, address: str) -> bool:
        def exists() -> bool:
            return ServiceAddress.select().where(ServiceAddress.kind == "email",
                                                 ServiceAddress.value == address).exists()
        return await self.ctx.db.call(exists)

    def _published(self, results: list[Any]) -> None:
        for r in results:
            if not isinstance(r, MailDelivered) or r.duplicate:
                continue
            kind = EventKind.TICKET_CREATED if r.created_ticket else EventKind.MESSAGE_RECEIVED
            self.ctx.bus.publish(Event(kind, {"ticket_id": r.ticket_id, "message_id": r.message_id,
                                              "channel": "mail", "flags": r.flags}, r.tenant_id))
        self._wake_outbox.set()  # auto-replies may be waiting

    async def _drain_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake_drain.wait(), DRAIN_IDLE_S)
            except asyncio.TimeoutError:
                pass
            self._wake_drain.clear()
            try:
                await self.pipeline.drain()
                self.deferred = ""
            except DeferredInput as exc:  # fail-closed virus check, clamd away: the spool keeps it
                if exc.reason != self.deferred:
                    log.warning("mail intake waits: %s", exc.reason)
                self.deferred = exc.reason
                await asyncio.sleep(RETRY_AFTER_DB_ERROR_S)
            except Exception as exc:  # database or store down: the spool keeps everything, try again
                log.error("mail intake drain failed, will retry: %r", exc)
                await asyncio.sleep(RETRY_AFTER_DB_ERROR_S)

    # --- accounts --------------------------------------------------------------------------------
    async def _accounts_loop(self) -> None:
        while True:
            try:
                await self._listen()
                await self._check_scanner()
                self._sync_fetchers(await self.ctx.db.call(self._load_accounts))
                self.processor.smime = SmimeInbound(await self.ctx.db.call(credentials.smime_keys, self.box))
                await self.ctx.db.call(self._save_status)
            except Exception as exc:  # the database may be briefly away; fetchers keep running
                log.warning("mail accounts reload failed: %r", exc)
            await asyncio.sleep(ACCOUNTS_RELOAD_S)

    def _sync_fetchers(self, rows: list[tuple[MailAccount, str, str]]) -> None:
        wanted = {}
        for a, address, password in rows:
            fingerprint = hashlib.sha256(json.dumps([a.protocol, a.host, a.port, a.security, a.ca_file, a.pin_sha256,
                                                     a.username, password, a.folder, a.poll_s, a.use_idle,
                                                     a.mailbox_id, a.kind, a.sms_number,
                                                     a.sms_sender_regex]).encode()).hexdigest()
            wanted[a.id] = (fingerprint, a, address, password)
        for account_id in list(self.fetchers):
            if account_id not in wanted or wanted[account_id][0] != self.fetchers[account_id][0]:
                self.fetchers.pop(account_id)[2].cancel()
        for account_id, (fingerprint, a, address, password) in wanted.items():
            if account_id in self.fetchers:
                continue
            self._warm_pool()
            conf = ServerConfig(a.host, a.port, a.username, password, a.security, a.ca_file, a.pin_sha256, a.folder)
            pipeline: Any = self.pipeline
            meta = {"account_id": a.id, "tenant_id": a.tenant_id, "mailbox_id": a.mailbox_id, "address": address}
            if a.kind == inbound_mail.KIND:  # a gateway's mail is an SMS: into the SMS spool, never a mail ticket
                pipeline = inbound_mail.SmsSpoolIntake(channel_spool(self.ctx.shared, self.ctx.store.root, "sms"),
                                                       self.ctx.metrics)
                meta = inbound_mail.meta_for(a.id, a.tenant_id, a.sms_number, a.sms_sender_regex, a.name)
            fetcher = AccountFetcher(a.name, a.protocol, conf, pipeline, self.executor, meta, a.poll_s, a.use_idle,
                                     self._wake_drain.set, self.ctx.config.get("fetch_batch", 100))
            self.fetchers[account_id] = (fingerprint, fetcher, asyncio.create_task(fetcher.run(),
                                                                                   name=f"mail-fetch-{a.id}"))

    def _warm_pool(self) -> None:
        """Spawn the parsing workers in the background once an account will fetch, not on its first batch.

        Not at start: a box without accounts (SMTP only, or none) never needs them.
        """
        if self._pool_warming is None and self.pool is not None:
            self._pool_warming = asyncio.get_running_loop().run_in_executor(self.executor, warm_pool, self.pool)
            self._pool_warming.add_done_callback(lambda f: f.cancelled() or f.exception())  # stopped mid-way

    def _save_status(self) -> None:
        def at(ts: float | None) -> datetime.datetime | None:
            return None if ts is None else datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).replace(tzinfo=None)
        for account_id, (_, f, _) in self.fetchers.items():
            s = f.status
            MailAccount.update(last_fetch_at=at(s.last_fetch_at), last_ok_at=at(s.last_ok_at),
                               last_error=s.last_error[:2000], last_error_at=at(s.last_error_at),
                               fetched_total=s.fetched).where(MailAccount.id == account_id).execute()

    # --- outbox ----------------------------------------------------------------------------------
    async def _outbox_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake_outbox.wait(), OUTBOX_INTERVAL_S)
            except asyncio.TimeoutError:
                pass
            self._wake_outbox.clear()
            if self.relay is None:
                continue
            try:
                await self.send_due()
            except Exception as exc:  # database away: rows stay queued
                log.warning("mail outbox pass failed: %r", exc)

    async def send_due(self) -> int:
        """Send every due outbox row once; returns how many were accepted by the relay."""
        rows = await self.ctx.db.call(outbox.due)
        loop, done = asyncio.get_running_loop(), 0
        for row in rows:
            rcpts = json.loads(row.rcpt_to)
            try:
                await loop.run_in_executor(self.executor, functools.partial(send, self.relay, row.mail_from, rcpts,
                                                                            bytes(row.raw)))
            except SendError as exc:
                self.send_failures += 1
                if self.ctx.metrics is not None:
                    self.ctx.metrics.inc("intake.mail.failed")
                self.last_send_error = str(exc)
                await self.ctx.db.call(outbox.mark_failed, row.id, str(exc), exc.permanent)
                continue
            await self.ctx.db.call(outbox.mark_sent, row.id)
            self.sent += 1
            if self.ctx.metrics is not None:
                self.ctx.metrics.inc("intake.mail.sent")
            done += 1
        return done

    # --- quarantine (QuarantineOwner) --------------------------------------------------------------
    async def quarantine_raw(self, entry_id: int) -> bytes:
        """The raw input of a quarantined mail."""
        row = await self.ctx.db.call(quarantine.get, entry_id)
        return await asyncio.get_running_loop().run_in_executor(None, self.ctx.store.get, row.digest)

    async def reprocess_quarantined(self, entry_id: int) -> dict[str, Any]:
        """Run a quarantined mail through intake again."""
        return await self.pipeline.reprocess(entry_id)


    def _load_accounts(self) -> list[tuple[MailAccount, str, str]]:
        """Active accounts with the service address their mail is counted as sent to, and their password.

        Rows written with a plain-text password (straight into the database) are sealed first. An account
        whose password cannot be opened (sealed under another store key) is skipped with its error saved.
        """
        credentials.seal_plaintext(self.box)
        out = []
        for account in MailAccount.select().where(MailAccount.active == True):  # noqa: E712
            try:
                password = credentials.password_of(self.box, account)
            except SecretError as exc:
                MailAccount.update(last_error=f"password cannot be opened, enter it again: {exc}"[:2000],
                                   last_error_at=utcnow()).where(MailAccount.id == account.id).execute()
                continue
            row = (ServiceAddress.select(ServiceAddress.value)
                   .where(ServiceAddress.mailbox == account.mailbox_id, ServiceAddress.kind == "email")
                   .order_by(ServiceAddress.id).first())
            out.append((account, row.value if row else account.username.lower(), password))
        return out
