"""The memoising header factory parses exactly as policy.default does, only less often."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.mail import parse
from bench.bench_mail import corpus
from tests.appliance.mail.clamav import infected_mail
from tests.appliance.mail.corpus import dsn, mail

PLAIN = BytesParser(policy=policy.default)
MEMO = BytesParser(policy=parse.POLICY)


def shape(raw: bytes, parser: BytesParser) -> list:
    """Everything a reader of the tree sees: per part its headers as parsed objects, params, file name, body."""
    out = []
    for part in parser.parsebytes(raw).walk():
        heads = [(k, str(v), type(v).__name__, [type(d).__name__ for d in v.defects]) for k, v in part.items()]
        out.append((heads, part.get_content_type(), dict(part.get_params() or []), part.get_filename(),
                    part.get_payload(decode=True) if not part.is_multipart() else None))
    return out


def test_same_trees_as_policy_default_for_real_looking_mail() -> None:
    raws = corpus(60) + [mail(html="<p>hi</p>"), dsn("x@y", "bob@z.example"), infected_mail(),
                         b"Content-Type: text/plain; charset*=utf-8''%E2%82%AC\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\nx"]
    for raw in raws + raws:  # the second round is served from the memo
        assert shape(raw, MEMO) == shape(raw, PLAIN)


def test_the_memo_hands_out_one_object_per_header_and_skips_long_values() -> None:
    factory = parse.POLICY.header_factory
    assert factory("Content-Type", "text/plain; charset=utf-8") is factory("Content-Type", "text/plain; charset=utf-8")
    long = "x" * (parse.MEMO_MAX_CHARS + 1)
    assert factory("Subject", long) is not factory("Subject", long)


@settings(max_examples=150, deadline=None)
@given(ctype=st.text(alphabet="abcdefghijklmnopqrstuvwxyz/;=\"' -*%0123456789", max_size=60),
       body=st.binary(max_size=200))
def test_odd_content_types_parse_alike(ctype: str, body: bytes) -> None:
    raw = f"From: a@b.example\r\nContent-Type: {ctype}\r\n\r\n".encode() + body
    assert shape(raw, MEMO) == shape(raw, PLAIN)
