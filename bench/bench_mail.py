"""Mail figures: intake rate from a real dovecot over IMAP to committed ticket messages (SQLite), and
that rate against bare `email` parsing of the same corpus, measured in the same run.

mail.intake_per_s: IMAP fetch → spool fsync → acknowledge → parse → ticket + message committed.
mail.intake_vs_parse_ratio: that rate / BytesParser(policy=default).parsebytes rate (goal ≥ 0.5).
The baseline is the standard library's parser as it comes; intake parses with the same policy plus a memo of
parsed header objects (appliance.mail.parse.POLICY), whose own bare rate is reported beside it (parse_memo_per_s).
"""
from __future__ import annotations

import asyncio
import os
import random
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Iterable

from bench.figure import figure

N = 1500
SEED = 7


def corpus(n: int = N) -> list[bytes]:
    """Mails like a support mailbox gets: plain, HTML alternative, a small attachment, replies."""
    rng = random.Random(SEED)
    words = "printer invoice order delivery broken refund please help urgent thanks account password".split()
    out = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = f"Customer {i % 97} <c{i % 97}@customer{i % 13}.example>"
        msg["To"] = "support@acme.example"
        msg["Subject"] = " ".join(rng.choice(words) for _ in range(5))
        msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
        msg["Message-ID"] = f"<bench{i}.{SEED}@customer.example>"
        if i % 4 == 3:
            msg["In-Reply-To"] = f"<bench{i - 1}.{SEED}@customer.example>"
        text = "\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(rng.randint(3, 30)))
        msg.set_content(text)
        if i % 3 == 0:
            msg.add_alternative(f"<html><body><p>{text.replace(chr(10), '<br>')}</p></body></html>", subtype="html")
        if i % 10 == 0:
            msg.add_attachment(rng.randbytes(2000), maintype="application", subtype="octet-stream",
                               filename=f"scan{i}.bin")
        out.append(msg.as_bytes())
    return out


def parse_rate(raws: list[bytes], pol: policy.Policy = policy.default) -> float:
    """Bare parsing: messages per second, best of three."""
    parser = BytesParser(policy=pol)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for raw in raws:
            parser.parsebytes(raw)
        best = min(best, time.perf_counter() - t0)
    return len(raws) / best


async def _intake(root: Path, raws: list[bytes]) -> float:
    from appliance.db import Database
    from appliance.intake.pipeline import IntakePipeline
    from appliance.intake.spool import Spool
    from appliance.intake.tickets import ModelTicketSink
    from appliance.mail.fetcher import AccountFetcher
    from appliance.mail.intake import intake_pool, warm_pool
    from appliance.mail.intake import MailProcessor
    from appliance.mail.sources import ServerConfig
    from appliance.models import Mailbox, Message, ServiceAddress, Tenant
    from appliance.store import DocumentStore
    from tests.appliance.mail.servers import PASSWORD, start_dovecot

    dovecot = start_dovecot(root / "dovecot")
    db = Database(f"sqlite:///{root / 'bench.db'}")
    try:
        with db.peewee.connection_context():
            db.migrate()
            tenant = Tenant.create(name="Bench")
            box = Mailbox.create(tenant=tenant, name="Support")
            ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value="support@acme.example")
        user = "support@acme.example"
        dovecot.add_user(user)
        for raw in raws:
            dovecot.deliver(user, raw)
        store = DocumentStore(root / "store", os.urandom(32))
        pool = intake_pool()
        warm_pool(pool)  # as the mail service does at start: workers spawned, not by the first batch
        pipeline = IntakePipeline(Spool(root / "spool", "mail"), db, store, MailProcessor(store, ModelTicketSink()),
                                  pool=pool)
        wake = asyncio.Event()
        executor = ThreadPoolExecutor(2)
        fetcher = AccountFetcher("bench", "imap", ServerConfig("localhost", dovecot.ports["imaps"], user, PASSWORD,
                                 "tls", ca_file=str(dovecot.cert)), pipeline, executor,
                                 {"tenant_id": tenant.id, "mailbox_id": box.id, "address": user}, 60,
                                 on_spooled=wake.set)

        async def drain() -> None:
            while True:
                await wake.wait()
                wake.clear()
                await pipeline.drain()

        t0 = time.perf_counter()
        tasks = [asyncio.create_task(fetcher.run()), asyncio.create_task(drain())]
        while pipeline.delivered < len(raws):  # counted after each segment's commit
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        committed = await db.call(lambda: Message.select().where(Message.tenant == tenant.id).count())
        assert committed == len(raws), f"{committed} ticket messages for {len(raws)} mails"
        for t in tasks:
            t.cancel()
        await asyncio.wait(tasks, timeout=10)
        executor.shutdown(wait=True)
        pool.shutdown()
        return len(raws) / elapsed
    finally:
        db.close()
        dovecot.stop()


def figures() -> Iterable[dict]:
    """The two mail figures."""
    from tests.appliance.mail.servers import private_dir
    raws = corpus()
    root = private_dir("bench-mail-")
    os.chmod(root, 0o755)
    try:
        # The box is shared and noisy: the parse baseline is taken before and after the intake run.
        before = parse_rate(raws)
        intake = asyncio.run(_intake(root, raws))
        bare = (before + parse_rate(raws)) / 2
        from appliance.mail.parse import POLICY
        memo = parse_rate(raws, POLICY)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    yield figure("mail.intake_per_s", intake, "messages/s", messages=len(raws), database="sqlite")
    yield figure("mail.intake_vs_parse_ratio", intake / bare, "ratio", goal=0.5, intake_per_s=round(intake, 1),
                 parse_per_s=round(bare, 1), parse_memo_per_s=round(memo, 1))
