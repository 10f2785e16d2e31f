"""Mail into tickets: the mail channel's intake processor (prepare: parse, check; commit: rows)."""
from __future__ import annotations

import json
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import nh3

from appliance.intake.errors import DeferredInput, RejectedInput
from appliance.intake.idempotency import mail_key
from appliance.intake.rows import insert_row, placeholders, select_rows
from appliance.intake.sink import Delivery, InboundMessage, TicketSink
from appliance.intake.spool import SpoolEntry
from appliance.mail import autoreply, conversation, credentials, dsn, spam
from appliance.mail.errors import MailParseError, SmimeError
from appliance.mail.loops import SenderRateLimiter, auto_reply_block
from appliance.mail.models import MailRecord
from appliance.mail.parse import ParsedMail, parse_mail
from appliance.models import Document, ServiceAddress

BODY_MAX = 1_000_000          # characters of text kept on the message; the original keeps everything
ADDRESS_CACHE_S = 30.0
STORE_WRITERS = 4             # attachment writes in flight at once
POOL_MIN_BATCH = 8
POOL_WORKERS = 2              # the appliance's small boxes have two cores
FLOOD_SPAM_FACTOR = 3         # a sender this many times over the limit files new tickets as spam


@dataclass
class MailSettings:
    """The mail channel's knobs (from the [mail] config section)."""

    spam_threshold: float = 5.0
    spamc_path: str = ""
    spamd: str = ""               # where spamc finds spamd: host:port or a unix socket; "": spamc's default
    sender_limit_per_hour: int = 30
    keep_original: bool = True
    virus_scanner: Any = None     # appliance.mail.virus.VirusScanner, or None: no virus check


@dataclass
class PreparedMail:
    """A parsed mail with everything that needs no database done."""

    mail: ParsedMail
    key: str
    spam: spam.SpamVerdict
    smime: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    analysis: Any = None


@dataclass(frozen=True)
class MailDelivered:
    """The result of one mail's intake."""

    tenant_id: int
    ticket_id: int
    message_id: int
    created_ticket: bool
    duplicate: bool
    flags: str = ""


@dataclass
class Analysis:
    """What `analyse` finds in raw bytes; plain data, so it can come back from a worker process."""

    mail: ParsedMail
    key: str
    spam: spam.SpamVerdict
    smime: str = ""
    unscanned: str = ""             # why the virus check was skipped (fail-open), "" when it ran or is off
    signer_certs: list[str] = field(default_factory=list)  # PEM of valid S/MIME signatures, to learn partners
    safe_html: str = ""
    body: str = ""
    header_block: str = ""          # why no auto-reply, from the headers alone ("" if none)
    is_bounce: bool = False
    thread_hashes: list[str] = field(default_factory=list)  # referenced ids, most specific first


def analyse(raw: bytes, spamc_path: str = "", smime: Any = None, scanner: Any = None, spamd: str = "") -> Analysis:
    """Virus check, parse, unwrap S/MIME, score: everything about a mail that needs neither database nor store."""
    # Scanned before parsing: an infected mail is quarantined as such even when it is also malformed.
    unscanned = scanner.screen(raw) if scanner is not None else ""
    try:
        mail = parse_mail(raw)
    except MailParseError as exc:
        raise RejectedInput(f"unparseable mail: {exc}") from None
    smime_status, signers = "", []
    if smime is not None:
        try:
            mail, smime_status, signers = smime.unwrap_with_signers(raw, mail)
        except SmimeError as exc:
            smime_status = f"S/MIME failed: {exc}"
    if scanner is not None and "decrypted" in smime_status:  # clamd saw only ciphertext: check what was inside
        for att in mail.attachments:
            unscanned = scanner.screen(att.data, f"encrypted attachment {att.filename!r}") or unscanned
    # Everything CPU-bound happens here, in the worker: sanitising, threading ids, loop headers.
    bounce = dsn.parse_bounce(mail)
    hashes = conversation.reference_hashes(mail)
    if bounce is not None and bounce.original_message_id:
        hashes.insert(0, conversation.mid_hash(bounce.original_message_id))
    result = Analysis(mail, mail_key(mail.message_id, raw), spam.verdict(mail, raw, spamc_path, spamd), smime_status,
                      unscanned=unscanned, signer_certs=signers,
                      safe_html=mail.safe_html, body=mail.text or (nh3.clean(mail.html, tags=set()) if mail.html else ""),
                      header_block=auto_reply_block(mail, ()), is_bounce=bounce is not None, thread_hashes=hashes)
    mail.headers, mail.html = {}, ""  # used up; less to carry back from the worker
    return result


def _analyse_or_reason(raw: bytes, spamc_path: str = "", smime: Any = None, scanner: Any = None,
                       spamd: str = "") -> Analysis | str:
    # Across a process boundary a rejection travels as its reason; a bug as a reason too.
    try:
        return analyse(raw, spamc_path, smime, scanner, spamd)
    except RejectedInput as exc:
        return exc.reason
    except DeferredInput:
        raise  # not this mail's fault: the whole segment waits in the spool
    except Exception as exc:  # noqa: BLE001 - never lose the batch to one mail that trips a parser bug
        return f"internal error while parsing: {exc!r}"


class MailProcessor:
    """Intake processor of the mail channel (see appliance.intake.pipeline.Processor)."""

    def __init__(self, store: Any, sink: TicketSink, settings: MailSettings | None = None,
                 smime: Any = None, content: Any = None) -> None:
        self.store, self.sink = store, sink
        self.content = content    # autoreply.ReplyContent: templates and pictures for auto-replies (E3, E4)
        self.settings = settings or MailSettings()
        self.smime = smime        # appliance.mail.smime.SmimeInbound or None
        self.secrets: Any = None  # appliance.security.secrets.SecretBox: opens sealed signing keys
        self.limiter = SenderRateLimiter(self.settings.sender_limit_per_hour)
        self.spamc_status = ""    # spamc's answer for the last mail delivered ("ok", or why there was none)
        self._own: dict[int, tuple[float, set[str]]] = {}
        self._box_settings: dict[int, tuple[float, dict[str, Any]]] = {}
        self._io = ThreadPoolExecutor(max_workers=STORE_WRITERS, thread_name_prefix="mail-store")

    # --- prepare: no database ------------------------------------------------------------------
    def prepare(self, entry: SpoolEntry) -> PreparedMail:
        """Parse, unwrap S/MIME, score, store attachments."""
        return self._stored(analyse(entry.raw, self.settings.spamc_path, self.smime, self.settings.virus_scanner,
                                    self.settings.spamd))

    def prepare_batch(self, entries: list[SpoolEntry], pool: Executor | None = None) -> list[Any]:
        """`prepare` for many; the CPU-heavy analysis in `pool` (a process pool) when given."""
        raws = [e.raw for e in entries]
        if pool is None or len(raws) < POOL_MIN_BATCH:  # a lone SMTP mail is quicker parsed right here
            results = [_analyse_or_reason(r, self.settings.spamc_path, self.smime, self.settings.virus_scanner,
                                          self.settings.spamd) for r in raws]
        else:
            n = len(raws)
            results = list(pool.map(_analyse_or_reason, raws, [self.settings.spamc_path] * n, [self.smime] * n,
                                    [self.settings.virus_scanner] * n, [self.settings.spamd] * n,
                                    chunksize=max(1, -(-n // POOL_WORKERS))))  # one chunk per worker: least IPC
        analyses = [r for r in results if not isinstance(r, str)]
        # Each put is a durable write (two fsyncs): done side by side, they overlap instead of queueing.
        datas = [a.data for an in analyses for a in an.mail.attachments]
        digests = iter(list(self._io.map(self.store.put, datas)) if len(datas) > 1 else map(self.store.put, datas))
        return [RejectedInput(r) if isinstance(r, str) else self._stored(r, digests) for r in results]

    def _stored(self, analysis: "Analysis", digests: Any = None) -> PreparedMail:
        mail = analysis.mail
        stored = []
        for att in mail.attachments:
            digest = next(digests) if digests is not None else self.store.put(att.data)
            stored.append({"digest": digest, "filename": att.filename, "mime": att.mime[:100],
                           "size": len(att.data), "cid": att.content_id, "inline": att.inline})
        return PreparedMail(mail, analysis.key, analysis.spam, analysis.smime, stored, analysis)

    # --- commit: inside the transaction -----------------------------------------------------------
    def route(self, meta: dict[str, Any], mail: ParsedMail) -> tuple[int, int | None, str]:
        """(tenant, mailbox, recipient): from the fetching account, else the first service address."""
        if meta.get("tenant_id"):
            return int(meta["tenant_id"]), meta.get("mailbox_id"), str(meta.get("address", ""))
        candidates = [a.lower() for a in meta.get("rcpt", [])] or mail.to + mail.cc
        if candidates:
            row = (ServiceAddress.select().where(ServiceAddress.kind == "email",
                                                 ServiceAddress.value.in_(candidates)).first())
            if row:
                return row.tenant_id, row.mailbox_id, row.value
        raise RejectedInput("no configured service address among the recipients: "
                            + ", ".join(candidates[:10] or ["(none)"]))

    def own_addresses(self, tenant_id: int) -> set[str]:
        """The tenant's service addresses (cached briefly): mail from them is never auto-answered."""
        now = time.monotonic()
        cached = self._own.get(tenant_id)
        if cached and now - cached[0] < ADDRESS_CACHE_S:
            return cached[1]
        values = {r.value for r in ServiceAddress.select(ServiceAddress.value)
                  .where(ServiceAddress.tenant == tenant_id, ServiceAddress.kind == "email")}
        self._own[tenant_id] = (now, values)
        return values

    def mailbox_settings(self, mailbox_id: int) -> dict[str, Any]:
        """Inherited mailbox settings, cached briefly (read for every new ticket)."""
        now = time.monotonic()
        cached = self._box_settings.get(mailbox_id)
        if cached and now - cached[0] < ADDRESS_CACHE_S:
            return cached[1]
        settings = autoreply.mailbox_settings(mailbox_id)
        self._box_settings[mailbox_id] = (now, settings)
        return settings

    def thread_ticket(self, tenant_id: int, subject: str, hashes: list[str]) -> int | None:
        """The ticket a mail belongs to: a referenced mail's (a bounce's original first), else a subject tag."""
        if hashes:
            found = dict(select_rows(MailRecord, 'SELECT "mid_hash", "ticket_id" FROM "mail_record" WHERE "tenant_id" = '
                                     '{p} AND "mid_hash" IN (' + placeholders(len(hashes)) + ')', [tenant_id, *hashes]))
            for h in hashes:
                if h in found:
                    return found[h]
        # The sink only honours a subject number inside this tenant: a forged one opens a new ticket.
        return conversation.ticket_number(subject)

    def commit(self, entry: SpoolEntry, prepared: PreparedMail) -> MailDelivered:
        """Deliver to a ticket, keep the mail details, queue an auto-reply when allowed."""
        mail, found = prepared.mail, prepared.analysis
        tenant_id, mailbox_id, recipient = self.route(entry.meta, mail)
        ticket_hint = self.thread_ticket(tenant_id, mail.subject, found.thread_hashes)
        kind = "system" if found.is_bounce else "message"  # a DSN is machine-made; flags say "dsn"
        flags = []
        block = found.header_block
        if not block and entry.meta.get("mail_from") == "":  # null reverse-path: a bounce (RFC 5321 §4.5.5)
            block = "null envelope sender"
        if not block and mail.from_addr in self.own_addresses(tenant_id):
            block = f"our own address {mail.from_addr}"
        if block:
            flags.append("auto")
        within = self.limiter.hit(mail.from_addr or "(none)")
        if not within:
            flags.append("flood")
        is_spam = prepared.spam.score >= self.settings.spam_threshold
        self.spamc_status = prepared.spam.spamc_status
        if is_spam:
            flags.append("spam")
        if kind == "system":
            flags.append("dsn")
        if found.unscanned:
            flags.append("unscanned")  # fail-open let it through without a virus check
        body = found.body
        delivery: Delivery = self.sink.deliver(InboundMessage(
            tenant_id=tenant_id, channel="mail", idempotency_key=prepared.key, source_ref=mail.message_id[:300],
            sender=mail.from_addr, sender_name=mail.from_name, recipient=recipient or ",".join(mail.to[:3]),
            subject=mail.subject, body=body[:BODY_MAX], mailbox_id=mailbox_id, ticket_id=ticket_hint,
            new_ticket_state="spam" if is_spam or self._flooding(mail.from_addr) else "open", kind=kind))
        if delivery.duplicate:
            return MailDelivered(tenant_id, delivery.ticket_id, delivery.message_id, False, True)
        insert_row(MailRecord, tenant=tenant_id, message=delivery.message_id, ticket=delivery.ticket_id, direction="in",
                          mid_hash=conversation.mid_hash(mail.message_id or prepared.key),
                          header_id=mail.message_id[:300], html=found.safe_html,
                          raw=entry.raw if self.settings.keep_original else None, smime=prepared.smime[:200],
                          spam_score=prepared.spam.score, flags=",".join(flags),
                          attachments=json.dumps(prepared.attachments))
        if found.signer_certs and mail.from_addr:
            credentials.learn_partners(tenant_id, mail.from_addr, found.signer_certs)
        for att in prepared.attachments:
            insert_row(Document, tenant=tenant_id, ticket_id=delivery.ticket_id, digest=att["digest"],
                       filename=att["filename"][:255], mime=att["mime"], size=att["size"])
        if delivery.created_ticket and not block and within and not is_spam and mailbox_id:
            autoreply.queue_auto_reply(tenant_id, mailbox_id, delivery.ticket_id, mail, recipient,
                                       self.mailbox_settings(mailbox_id), self.secrets, self.content)
        return MailDelivered(tenant_id, delivery.ticket_id, delivery.message_id, delivery.created_ticket, False,
                             ",".join(flags))

    def _flooding(self, sender: str) -> bool:
        return self.limiter.count(sender or "(none)") > self.settings.sender_limit_per_hour * FLOOD_SPAM_FACTOR



def _worker_ready() -> int:
    # Importing this module in the worker is the point: parser, sanitiser and models are loaded.
    import os
    return os.getpid()


def warm_pool(pool: Executor, workers: int = POOL_WORKERS) -> None:
    """Start the pool's worker processes now and wait until each has imported the parsing code.

    A process pool starts its workers on first use: without this the first fetched batch after a
    start would wait for two interpreters to spawn and import (seconds on a small box).
    """
    pids: set[int] = set()
    for _ in range(8):  # a task may land on a worker that is already up; ask until all have answered
        pids |= set(f.result() for f in [pool.submit(_worker_ready) for _ in range(workers)])
        if len(pids) >= workers:
            return


def intake_pool(workers: int = POOL_WORKERS) -> Executor:
    """A process pool for `analyse` (spawned: the parent runs threads and an event loop)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
