"""Virus check of inbound mail against a real clamd (G9): quarantine with the virus name, never a ticket;
clamd away: fail-closed keeps mail in the spool, fail-open lets it through flagged."""
from __future__ import annotations

import asyncio
import smtplib
import ssl
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from appliance.intake.errors import DeferredInput
from appliance.intake.models import QuarantineEntry
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail.intake import MailProcessor, MailSettings, intake_pool
from appliance.mail.models import MailRecord
from appliance.mail.virus import VirusScanner
from appliance.models import Message
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.appliance.mail.clamav import SIGNATURE, Clamd, infected_mail, start_clamd
from tests.appliance.mail.corpus import mail
from tests.appliance.mail.servers import cleanup, private_dir

RCPT = {"rcpt": ["support@acme.example"]}


@pytest.fixture(scope="module")
def clamd() -> Iterator[Clamd]:
    root = private_dir("clamd-")
    server = start_clamd(root)
    yield server
    server.stop()
    cleanup(root)


@pytest.fixture
def running(clamd: Clamd) -> Clamd:
    """clamd, started again if a test stopped it."""
    if clamd.proc is None:
        clamd.start()
    return clamd


def pipeline_for(db, tmp_path: Path, scanner: VirusScanner, pool=None) -> IntakePipeline:
    store = make_store(tmp_path)
    processor = MailProcessor(store, ModelTicketSink(), MailSettings(virus_scanner=scanner))
    return IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, processor, pool=pool)


@pytest.fixture
def db(database_url: str):
    handle = open_db(database_url)
    make_org(handle, "Acme", ["support@acme.example"])
    yield handle
    handle.close()


def test_scanner_names_the_signature_and_passes_clean_mail(running: Clamd) -> None:
    scanner = VirusScanner(str(running.socket))
    assert scanner.scan(infected_mail()).virus == f"{SIGNATURE}.UNOFFICIAL"
    assert scanner.scan(mail()).virus == "" and scanner.scan(mail()).unscanned == ""
    assert scanner.ping().startswith("ok: ClamAV ")
    away = VirusScanner(str(running.root / "no-such.sock"))
    assert away.scan(mail()).unscanned.startswith(f"clamd at {running.root / 'no-such.sock'} did not answer")
    assert away.ping().startswith("unreachable: ")


def test_mail_over_clamds_stream_limit_is_held_when_fail_closed(running: Clamd) -> None:
    big = mail(body="x" * (3 * 1024 * 1024))  # StreamMaxLength is 2M in the test clamd.conf
    from appliance.intake.errors import RejectedInput
    with pytest.raises(RejectedInput, match="StreamMaxLength"):
        VirusScanner(str(running.socket)).screen(big)
    assert "StreamMaxLength" in VirusScanner(str(running.socket), fail_closed=False).screen(big)


async def test_infected_mail_is_quarantined_with_the_virus_name_never_a_ticket(db, running: Clamd,
                                                                               tmp_path: Path) -> None:
    pipeline = pipeline_for(db, tmp_path, VirusScanner(str(running.socket)))
    await pipeline.accept([SpoolEntry(infected_mail(), "smtp:test", RCPT), SpoolEntry(mail(), "smtp:test", RCPT)])
    await pipeline.drain()
    held = await db.call(lambda: list(QuarantineEntry.select()))
    assert len(held) == 1 and f"virus found in the mail: {SIGNATURE}.UNOFFICIAL (ClamAV)" in held[0].reason
    messages = await db.call(lambda: list(Message.select()))
    assert [m.subject for m in messages] == ["Help"]
    assert pipeline.spool.pending() == []
    # Re-processing does not launder it: still held, same reason.
    shown = await pipeline.reprocess(held[0].id)
    assert shown["state"] == "held" and SIGNATURE in shown["reason"]


async def test_batches_through_the_parsing_pool_are_scanned_too(db, running: Clamd, tmp_path: Path) -> None:
    pool = intake_pool()
    try:
        pipeline = pipeline_for(db, tmp_path, VirusScanner(str(running.socket)), pool)
        entries = [SpoolEntry(mail(message_id=f"<ok{i}@x>", subject=f"ok {i}"), "imap:test", RCPT) for i in range(9)]
        entries.insert(4, SpoolEntry(infected_mail(), "imap:test", RCPT))
        await pipeline.accept(entries)
        await pipeline.drain()
    finally:
        pool.shutdown()
    assert await db.call(lambda: Message.select().count()) == 9
    [held] = await db.call(lambda: list(QuarantineEntry.select()))
    assert SIGNATURE in held.reason


async def test_fail_closed_keeps_mail_in_the_spool_until_clamd_is_back(db, running: Clamd, tmp_path: Path) -> None:
    pipeline = pipeline_for(db, tmp_path, VirusScanner(str(running.socket), fail_closed=True))
    running.stop()
    await pipeline.accept([SpoolEntry(mail(), "smtp:test", RCPT)])
    with pytest.raises(DeferredInput, match="virus check waits: clamd at .* did not answer"):
        await pipeline.drain()
    assert len(pipeline.spool.pending()) == 1
    assert await db.call(lambda: Message.select().count() + QuarantineEntry.select().count()) == 0
    running.start()
    assert await pipeline.drain() == 1
    [record] = await db.call(lambda: list(MailRecord.select()))
    assert "unscanned" not in record.flags and pipeline.spool.pending() == []


async def test_fail_open_delivers_flagged_unscanned(db, running: Clamd, tmp_path: Path) -> None:
    pipeline = pipeline_for(db, tmp_path, VirusScanner(str(running.root / "gone.sock"), fail_closed=False))
    await pipeline.accept([SpoolEntry(mail(), "smtp:test", RCPT)])
    assert await pipeline.drain() == 1
    [record] = await db.call(lambda: list(MailRecord.select()))
    assert "unscanned" in record.flags.split(",")


@pytest.fixture
async def app(first_boot, app_env, running: Clamd) -> AsyncIterator:
    from appliance import config
    from appliance.runtime import Appliance
    env = {**app_env, "APPLIANCE_MAIL_SMTP_PORT": "0", "APPLIANCE_MAIL_SMTP_HOST": "127.0.0.1",
           "APPLIANCE_MAIL_CLAMD": f"unix://{running.socket}", "APPLIANCE_MAIL_VIRUS_FAIL": "closed"}
    appliance = Appliance(config.load(first_boot.root, env))
    appliance.first_boot_password = first_boot.admin_password
    await appliance.start()
    yield appliance
    await appliance.stop()


async def test_smtp_mail_with_a_virus_lands_in_quarantine_and_the_console_shows_clamd(app, running: Clamd) -> None:
    import aiohttp

    from tests.appliance.mail.test_service import org, until
    from tests.appliance.webui.helpers import login_admin
    await org(app, "support@acme.example")
    svc = app.supervisor.service("mail")

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", svc.smtp_port, timeout=10) as c:
            c.starttls(context=ssl.create_default_context(cafile=str(app.data.cert)))
            c.sendmail("mallory@customer.example", ["support@acme.example"], infected_mail())
    await asyncio.get_running_loop().run_in_executor(None, send)
    held = await until(app, lambda: QuarantineEntry.get_or_none(QuarantineEntry.channel == "mail"))
    assert held is not None and SIGNATURE in held.reason and held.source.startswith("smtp")
    assert await app.db.call(lambda: Message.select().count()) == 0
    ctx = ssl.create_default_context(cafile=str(app.data.cert))
    async with aiohttp.ClientSession(base_url=f"https://localhost:{app.web_port}",
                                     connector=aiohttp.TCPConnector(ssl=ctx)) as http:
        await login_admin(http, app.first_boot_password)
        page = await (await http.get("/admin/mail")).text()
        assert "Virus check (ClamAV)" in page and "ok: ClamAV" in page and "fail-closed" in page
        running.stop()
        await svc._check_scanner()  # the accounts loop does this every few seconds
        page = await (await http.get("/admin/mail")).text()
        assert "unreachable" in page and "new mail waits in the spool until clamd answers" in page


async def test_reprocessing_while_clamd_is_away_keeps_the_entry_and_says_why(db, running: Clamd,
                                                                            tmp_path: Path) -> None:
    pipeline = pipeline_for(db, tmp_path, VirusScanner(str(running.socket)))
    await pipeline.accept([SpoolEntry(infected_mail(), "smtp:test", RCPT)])
    await pipeline.drain()
    [held] = await db.call(lambda: list(QuarantineEntry.select()))
    running.stop()
    shown = await pipeline.reprocess(held.id)
    assert shown["state"] == "held" and shown["reason"] == held.reason and shown["attempts"] == 0
    assert shown["deferred"].startswith("virus check waits: clamd at ")


def test_a_tcp_address_without_a_port_counts_as_clamd_away() -> None:
    scanner = VirusScanner("tcp://clamd.example", fail_closed=False)
    assert "tcp:// needs a host and a port" in scanner.scan(mail()).unscanned
    assert scanner.ping().startswith("unreachable: ")
