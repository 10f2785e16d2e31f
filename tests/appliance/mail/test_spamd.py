"""Spam score from a real SpamAssassin spamd through the mail intake (G9): GTUBE is filed in the mailbox's
spam folder (kept, never deleted), a clean mail is not; spamd away: our rules only and a status saying so."""
from __future__ import annotations

import asyncio
import smtplib
import ssl
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail import spam
from appliance.mail.intake import MailProcessor, MailSettings, intake_pool
from appliance.mail.models import MailRecord
from appliance.mail.parse import parse_mail
from appliance.models import Mailbox, Message, Ticket
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.appliance.mail.corpus import mail
from tests.appliance.mail.servers import cleanup, private_dir
from tests.appliance.mail.spamassassin import GTUBE, Spamd, start_spamd
from tests.pg import free_port
from tests.tools import require_tool

RCPT = {"rcpt": ["support@acme.example"]}


@pytest.fixture(scope="module")
def spamd() -> Iterator[Spamd]:
    require_tool("spamc", "spamc")
    root = private_dir("spamd-")
    server = start_spamd(root)
    yield server
    server.stop()
    cleanup(root)


@pytest.fixture
def running(spamd: Spamd) -> Spamd:
    """spamd, started again if a test stopped it."""
    if spamd.proc is None:
        spamd.start()
    return spamd


@pytest.fixture
def db(database_url: str):
    handle = open_db(database_url)
    make_org(handle, "Acme", ["support@acme.example"])
    yield handle
    handle.close()


def pipeline_for(db, tmp_path: Path, spamd_address: str, pool=None) -> IntakePipeline:
    settings = MailSettings(spamc_path="spamc", spamd=spamd_address)
    processor = MailProcessor(make_store(tmp_path), ModelTicketSink(), settings)
    return IntakePipeline(Spool(tmp_path / "spool", "mail"), db, make_store(tmp_path), processor, pool=pool)


def gtube_mail(message_id: str = "<gtube@customer.example>") -> bytes:
    return mail(sender="spammer@customer.example", subject="A great offer", body=f"Buy now.\n{GTUBE}\n",
                message_id=message_id)


def filed() -> dict[str, tuple[str, str, float, str]]:
    """subject -> (ticket state, mailbox name, spam score, flags) of every delivered mail."""
    out = {}
    for record in MailRecord.select():
        msg = Message.get_by_id(record.message_id)
        ticket = Ticket.get_by_id(msg.ticket_id)
        out[msg.subject] = (ticket.state, Mailbox.get_by_id(ticket.mailbox_id).name, record.spam_score, record.flags)
    return out


def test_spamc_scores_gtube_as_spam_and_a_clean_mail_below_the_threshold(running: Spamd) -> None:
    score, status = spam.spamc_score(gtube_mail(), "spamc", running.address)
    assert status == "ok" and score is not None and score >= 1000
    score, status = spam.spamc_score(mail(), "spamc", running.address)
    assert status == "ok" and score is not None and score < 5


def test_spamd_away_is_no_verdict_not_a_clean_score(running: Spamd) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    score, status = spam.spamc_score(gtube_mail(), "spamc", closed)
    assert score is None and status.startswith(f"spamd at {closed} did not answer (spamc exit 69)")
    score, status = spam.spamc_score(mail(), "spamc", str(running.root / "no.sock"))
    assert score is None and "did not answer" in status
    v = spam.verdict(parse_mail(gtube_mail()), gtube_mail(), "spamc", closed)
    assert v.score < 5 and v.spamc_status.startswith(f"spamd at {closed} did not answer")
    assert f"spamc: {v.spamc_status}" in v.reasons


def test_a_mail_over_spamcs_size_limit_says_skipped_not_clean(running: Spamd) -> None:
    big = mail(body="x" * (spam.SPAMC_MAX_BYTES + 1000))
    assert spam.spamc_score(big, "spamc", running.address) == (None, "skipped: larger than spamc's limit of 512 kB")


async def test_gtube_is_filed_in_the_spam_folder_and_a_clean_mail_is_not(db, running: Spamd,
                                                                         tmp_path: Path) -> None:
    pipeline = pipeline_for(db, tmp_path, running.address)
    await pipeline.accept([SpoolEntry(gtube_mail(), "smtp:test", RCPT), SpoolEntry(mail(), "smtp:test", RCPT)])
    assert await pipeline.drain() == 2
    got = await db.call(filed)
    state, folder, score, flags = got["A great offer"]
    assert folder == "Support / Spam" and state == "pending" and score >= 1000 and "spam" in flags.split(",")
    state, folder, score, flags = got["Help"]
    assert folder == "Support" and state == "open" and score < 5 and "spam" not in flags.split(",")
    assert pipeline.spool.pending() == []


async def test_batches_through_the_parsing_pool_ask_spamd_too(db, running: Spamd, tmp_path: Path) -> None:
    pool = intake_pool()
    try:
        pipeline = pipeline_for(db, tmp_path, running.address, pool)
        entries = [SpoolEntry(mail(message_id=f"<ok{i}@x>", subject=f"ok {i}"), "imap:test", RCPT) for i in range(7)]
        entries.insert(3, SpoolEntry(gtube_mail(), "imap:test", RCPT))
        await pipeline.accept(entries)
        assert await pipeline.drain() == 8
    finally:
        pool.shutdown()
    got = await db.call(filed)
    assert got["A great offer"][1] == "Support / Spam"
    assert {v[1] for k, v in got.items() if k != "A great offer"} == {"Support"}


async def test_spamd_away_delivers_on_our_rules_alone(db, running: Spamd, tmp_path: Path) -> None:
    running.stop()
    pipeline = pipeline_for(db, tmp_path, running.address)
    await pipeline.accept([SpoolEntry(gtube_mail(), "smtp:test", RCPT)])
    assert await pipeline.drain() == 1
    [(state, folder, score, _)] = (await db.call(filed)).values()
    assert folder == "Support" and score < 5  # not lost, not spam: nothing judged it


@pytest.fixture
async def app(first_boot, app_env, running: Spamd) -> AsyncIterator:
    from appliance import config
    from appliance.runtime import Appliance
    env = {**app_env, "APPLIANCE_MAIL_SMTP_PORT": "0", "APPLIANCE_MAIL_SMTP_HOST": "127.0.0.1",
           "APPLIANCE_MAIL_SPAMC": "spamc", "APPLIANCE_MAIL_SPAMD": running.address}
    appliance = Appliance(config.load(first_boot.root, env))
    appliance.first_boot_password = first_boot.admin_password
    await appliance.start()
    yield appliance
    await appliance.stop()


async def test_smtp_gtube_goes_to_the_spam_folder_and_the_console_tells_when_spamd_is_away(app,
                                                                                          running: Spamd) -> None:
    import aiohttp

    from tests.appliance.mail.test_service import org, until
    from tests.appliance.webui.helpers import login_admin
    await org(app, "support@acme.example")
    svc = app.supervisor.service("mail")

    def send(*raws: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", svc.smtp_port, timeout=30) as c:
            c.starttls(context=ssl.create_default_context(cafile=str(app.data.cert)))
            for raw in raws:
                c.sendmail("someone@customer.example", ["support@acme.example"], raw)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, send, gtube_mail(), mail())
    got = await until(app, lambda: (lambda f: f if len(f) == 2 else None)(filed()))
    assert got["A great offer"][1] == "Support / Spam" and got["Help"][1] == "Support"
    ctx = ssl.create_default_context(cafile=str(app.data.cert))
    async with aiohttp.ClientSession(base_url=f"https://localhost:{app.web_port}",
                                     connector=aiohttp.TCPConnector(ssl=ctx)) as http:
        await login_admin(http, app.first_boot_password)
        page = await (await http.get("/admin/mail")).text()
        assert f"ok: spamd at {running.address} scored the last mail" in page
        running.stop()
        await loop.run_in_executor(None, send, mail(subject="Still here", message_id="<m2@customer.example>"))
        got = await until(app, lambda: (lambda f: f if "Still here" in f else None)(filed()))
        assert got["Still here"][1] == "Support"  # delivered on our rules alone, not lost
        page = await (await http.get("/admin/mail")).text()
        assert f"spamd at {running.address} did not answer (spamc exit 69)" in page
