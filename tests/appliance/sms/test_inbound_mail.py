"""Reading an SMS gateway's mail (appliance.sms.inbound_mail): sender, charset-decoded text, key; anything else is
a RejectedInput with its reason, never another exception."""
from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.intake.errors import RejectedInput
from appliance.intake.spool import SpoolEntry
from appliance.sms import inbound_mail

META = inbound_mail.meta_for(7, 3, "+4930123456", "", "gw")


def entry(raw: bytes, **meta) -> SpoolEntry:
    return SpoolEntry(raw, "imap:gw", {**META, **meta})


def raw_mail(body: bytes, ctype: str = "text/plain; charset=utf-8", cte: str = "8bit",
             sender: str = "491701234567@sms.example.net", subject: str = "SMS") -> bytes:
    return (f"From: {sender}\r\nTo: sms@acme.example\r\nSubject: {subject}\r\nMessage-ID: <k1@gw>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n").encode() + body


def test_text_is_decoded_from_its_charset_and_the_key_is_message_id_plus_digest() -> None:
    sms = inbound_mail.from_entry(entry(raw_mail("Привет, перезвоните".encode("koi8-r"),
                                                 "text/plain; charset=koi8-r")))
    assert (sms.text, sms.to, sms.tenant_id, sms.account_id) == ("Привет, перезвоните", "+4930123456", 3, 7)
    assert inbound_mail.find_sender(sms.subject, sms.from_header, "") == "491701234567"
    again = inbound_mail.from_entry(entry(raw_mail("Привет, перезвоните".encode("koi8-r"),
                                                   "text/plain; charset=koi8-r")))
    other = inbound_mail.from_entry(entry(raw_mail(b"another text")))
    assert sms.key == again.key != other.key and sms.key.startswith("sms-mail:")


def test_unknown_or_lying_charsets_keep_what_can_be_read() -> None:
    # The mail channel's rule for every mail: the declared charset, else UTF-8, else Latin-1.
    assert inbound_mail.from_entry(entry(raw_mail(b"caf\xe9", "text/plain; charset=x-unknown"))).text == "caf\xe9"
    assert inbound_mail.from_entry(entry(raw_mail(b"caf\xe9"))).text == "caf\xe9"
    assert inbound_mail.from_entry(entry(raw_mail("café".encode(), "text/plain; charset=x-unknown"))).text == "café"


def test_an_empty_plain_mail_is_an_empty_sms_and_a_plain_attachment_is_no_text() -> None:
    assert inbound_mail.from_entry(entry(raw_mail(b""))).text == ""
    attached = raw_mail(b"x").replace(b"Content-Transfer-Encoding",
                                      b"Content-Disposition: attachment\r\nContent-Transfer-Encoding")
    with pytest.raises(RejectedInput, match="no text/plain part"):
        inbound_mail.from_entry(entry(attached))


def test_a_mail_that_is_no_mail_is_refused_with_the_parsers_reason() -> None:
    with pytest.raises(RejectedInput, match="unreadable SMS-gateway mail: empty input"):
        inbound_mail.from_entry(entry(b"  \r\n"))


def test_the_plain_part_of_a_multipart_mail_is_the_text_and_html_only_is_refused() -> None:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["Subject"] = "491701234567@sms.example.net", "SMS"
    msg.set_content("plain text")
    msg.add_alternative("<p>html text</p>", subtype="html")
    assert inbound_mail.from_entry(entry(msg.as_bytes())).text == "plain text"
    with pytest.raises(RejectedInput, match="no text/plain part"):
        inbound_mail.from_entry(entry(raw_mail(b"<p>hi</p>", "text/html")))


def test_an_account_without_a_number_is_refused_with_the_fix() -> None:
    with pytest.raises(RejectedInput, match="without a service number"):
        inbound_mail.from_entry(entry(raw_mail(b"x"), number=""))


@pytest.mark.parametrize("subject,sender,regex,found", [
    ("", "491701234567@sms.example.net", "", "491701234567"),
    ("", "Gateway <+49-170-1234567@sms.example.net>", "", "+491701234567"),
    ("SMS von 0170 7654321 an 030555000", "gw@x", r"von (?P<number>[+\d ]+?) an", "01707654321"),
    ("Message", "SMS from 46701234567 <gw@x>", r"from (\d+)", "46701234567"),
    ("from +44 20 7946 0018", "gw@x", r"\+[\d ]+", "+442079460018")])
def test_the_sender_from_the_local_part_or_a_regex(subject: str, sender: str, regex: str, found: str) -> None:
    assert inbound_mail.find_sender(subject, sender, regex) == found


def test_no_number_is_refused_naming_where_it_looked() -> None:
    with pytest.raises(RejectedInput, match="From local part 'noreply'"):
        inbound_mail.find_sender("SMS", "Gateway <noreply@sms.example.net>", "")
    with pytest.raises(RejectedInput, match="finds no number in Subject 'hello'"):
        inbound_mail.find_sender("hello", "gw@x", r"from (\d+)")
    with pytest.raises(RejectedInput, match="not a regular expression"):
        inbound_mail.find_sender("hello", "gw@x", "(")


@pytest.mark.parametrize("raw,region,e164", [("491701234567", "DE", "+491701234567"),
                                             ("00491701234567", "SE", "+491701234567"),
                                             ("01701234567", "DE", "+491701234567"),
                                             ("0701234567", "SE", "+46701234567"),
                                             ("+46701234567", "DE", "+46701234567")])
def test_sender_numbers_become_e164(raw: str, region: str, e164: str) -> None:
    assert inbound_mail.sender_number(raw, region) == e164


def test_an_impossible_sender_number_is_refused() -> None:
    with pytest.raises(RejectedInput, match="'12'"):
        inbound_mail.sender_number("12", "DE")


def test_regex_checks() -> None:
    assert inbound_mail.check_regex(r"from (\d+)") == ""
    assert inbound_mail.check_regex(r"(?P<number>\d+) (\w+)") == ""
    assert "several groups" in inbound_mail.check_regex(r"(\d+) (\w+)")
    assert "not a regular expression" in inbound_mail.check_regex("(")
    assert "at most" in inbound_mail.check_regex("x" * 201)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_an_sms_or_a_reason(raw: bytes) -> None:
    try:
        sms = inbound_mail.from_entry(entry(raw))
    except RejectedInput as exc:
        assert str(exc)
        return
    try:
        inbound_mail.find_sender(sms.subject, sms.from_header, "")
    except RejectedInput as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200), st.sampled_from(["", r"(\d+)", r"(?P<number>\+?[\d ]+)"]))
def test_any_headers_give_a_number_or_a_reason(subject: str, sender: str, regex: str) -> None:
    try:
        found = inbound_mail.find_sender(subject, sender, regex)
    except RejectedInput:
        return
    assert found.lstrip("+").isdigit()
