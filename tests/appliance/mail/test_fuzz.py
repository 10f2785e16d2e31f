"""Bad input, generated: broken MIME, wrong charsets, 8-bit and huge headers, nested rfc822, TNEF,
empty bodies. The parser may only reject with MailParseError; through intake every input ends as a
ticket message or a quarantine entry with a reason."""
from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from appliance.intake.models import QuarantineEntry
from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail.errors import MailParseError
from appliance.mail.intake import MailProcessor, analyse
from appliance.intake.errors import RejectedInput
from appliance.mail.parse import parse_mail
from appliance.models import Message
from tests.appliance.intake.helpers import make_org, make_store, open_db

_tenants = itertools.count()

CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "shift_jis", "utf-16", "x-unknown", "", "utf-8\x00",
            "=?bad?=", "us-ascii"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", ""]
CTYPES = ["text/plain", "text/html", "application/ms-tnef", "application/octet-stream", "image/png",
          "message/rfc822", "message/delivery-status", "text/rfc822-headers", "multipart/mixed",
          "multipart/alternative", "multipart/related", "multipart/report", "text", "/", "x/y/z", ""]

header_text = st.one_of(st.text(max_size=80), st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
                        st.just("=?utf-8?q?M=C3=BCller?="), st.just("=?x-unknown?b?AAAA?="),
                        st.integers(1000, 20000).map(lambda n: "x" * n))  # enormous headers


@st.composite
def header_lines(draw) -> bytes:
    names = st.sampled_from(["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                             "Reply-To", "Auto-Submitted", "Precedence", "Content-Type", "X-Junk", "Sender"])
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        value = draw(header_text).replace("\r", " ").replace("\n", " ")
        lines.append(f"{draw(names)}: {value}".encode("utf-8", "surrogateescape"))
    if draw(st.booleans()):
        lines.append(draw(st.binary(max_size=40)).replace(b"\n", b" "))  # a line that is no header at all
    return b"\r\n".join(lines)


@st.composite
def mime_part(draw, depth: int = 0) -> bytes:
    ctype = draw(st.sampled_from(CTYPES))
    charset, cte = draw(st.sampled_from(CHARSETS)), draw(st.sampled_from(ENCODINGS))
    head = [f"Content-Type: {ctype}; charset=\"{charset}\"".encode("utf-8", "surrogateescape"),
            f"Content-Transfer-Encoding: {cte}".encode()]
    if draw(st.booleans()):
        head.append(b"Content-Disposition: " + draw(st.sampled_from(
            [b"attachment; filename=\"winmail.dat\"", b"inline", b"attachment; filename*=utf-8''%E2%82%AC.txt",
             b"attachment; filename=\"../../etc/passwd\"", b"bogus;;;"])))
    if ctype.startswith("multipart/") and depth < 4:
        boundary = draw(st.sampled_from(["b1", "b2", "", "--", "x" * 80]))
        head[0] = f"Content-Type: {ctype}; boundary=\"{boundary}\"".encode()
        children = draw(st.lists(mime_part(depth + 1), max_size=3))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + c + b"\r\n" for c in children)
        if draw(st.booleans()):
            body += b"--" + boundary.encode() + b"--\r\n"  # sometimes the closing boundary is missing
    elif ctype == "message/rfc822" and depth < 4:
        body = draw(whole_mail(depth + 1))
    else:
        body = draw(st.one_of(st.binary(max_size=300), st.just(b""), st.just(b"=ZZ=\r\n===="),
                              st.just(b"TQ==\r\n!!!notbase64"), st.just(b"\x78\x9f\x3e\x22TNEF")))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@st.composite
def whole_mail(draw, depth: int = 0) -> bytes:
    return draw(header_lines()) + b"\r\n" + draw(mime_part(depth))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(whole_mail(), st.binary(max_size=500)))
def test_parser_only_rejects_with_its_own_error(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except MailParseError:
        return
    for text in (mail.subject, mail.text, mail.html, mail.from_addr, mail.safe_html, *mail.headers.values()):
        text.encode("utf-8")  # everything is storable text (no surrogates)
        assert "\x00" not in text
    for att in mail.attachments:
        assert "/" not in att.filename and isinstance(att.data, bytes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(whole_mail(), st.binary(max_size=300)))
def test_analyse_rejects_only_with_a_reason(raw: bytes) -> None:
    try:
        analyse(raw)
    except RejectedInput as exc:
        assert exc.reason


def test_deep_nesting_and_part_bombs_are_rejected_not_crashed() -> None:
    deep = b"From: a@b.example\r\n"
    for i in range(60):  # multipart inside multipart, 60 levels
        deep += f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode()
    deep += b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    with pytest.raises(MailParseError, match="nesting"):
        parse_mail(deep)
    bomb = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n" + b"--z\r\n\r\nx\r\n" * 5000
    with pytest.raises(MailParseError, match="parts"):
        parse_mail(bomb)


def test_nested_forwarded_mails_are_kept_whole_as_attachments() -> None:
    inner = b"From: c@d.example\r\nSubject: inner\r\n\r\ninner text\r\n"
    for _ in range(100):
        inner = b"From: x@y.example\r\nContent-Type: message/rfc822\r\n\r\n" + inner
    outer = (b"From: a@b.example\r\nSubject: fwd\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n"
             b"--m\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n"
             + inner + b"\r\n--m--\r\n")
    mail = parse_mail(outer)
    assert mail.text.strip() == "see below"
    [att] = mail.attachments
    assert att.mime == "message/rfc822" and b"inner text" in att.data


@pytest.fixture
def sqlite_env(tmp_path: Path):
    db = open_db(f"sqlite:///{tmp_path / 'fuzz.db'}")
    store = make_store(tmp_path)
    org = make_org(db, "Acme", ["support@acme.example"])
    yield db, store, org
    db.close()


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(st.lists(st.one_of(whole_mail(), st.binary(max_size=200)), min_size=10, max_size=40))
def test_every_input_ends_as_a_message_or_in_quarantine(sqlite_env, tmp_path: Path, raws: list[bytes]) -> None:
    db, store, _ = sqlite_env
    org = make_org(db, f"Fuzz {next(_tenants)}", [])  # a tenant per example: its rows are this example's
    raws = list(dict.fromkeys(raws + [b"", b"\xff" * 100]))  # an exact duplicate is (rightly) stored once
    pipeline = IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, MailProcessor(store, ModelTicketSink()))

    def totals() -> tuple[int, list[QuarantineEntry]]:
        return (Message.select().where(Message.direction == "in", Message.tenant == org.tenant_id).count(),
                list(QuarantineEntry.select().where(QuarantineEntry.tenant == org.tenant_id)))

    async def run() -> tuple:
        for i in range(0, len(raws), 25):
            await pipeline.accept([SpoolEntry(r, "fuzz", {"tenant_id": org.tenant_id, "mailbox_id": org.mailbox_id})
                                   for r in raws[i:i + 25]])
        await pipeline.drain()
        return await db.call(totals)
    messages, held = asyncio.run(run())
    assert all(q.reason for q in held) and len(held) >= 2
    assert messages + len(held) == len(raws)  # every input became exactly one of the two
    assert pipeline.spool.pending() == []
    keys = asyncio.run(_call(db, lambda: [m.idempotency_key for m in Message.select(Message.idempotency_key)]))
    assert len(keys) == len(set(keys))


async def _call(db, fn):
    return await db.call(fn)
