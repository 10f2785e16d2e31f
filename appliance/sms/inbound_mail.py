"""SMS in by mail (C10): a mail account marked as an SMS gateway's source (kind "sms-gateway") spools its
mail into the SMS channel, not the mail one; each mail becomes one SMS on the sender's SMS ticket.

The fetch loop (appliance.mail.fetcher) writes the raw mail into the SMS spool (fsync) before it flags
or deletes it at the server; the SMS intake (appliance.sms.intake) reads it here: the sender's number
from the From local part (491701234567@sms.example.net) or from a configured regular expression over
Subject and From, the text from the plain body as the mail channel's parser (appliance.mail.parse) reads
it. The key is the Message-ID plus the content digest, as for mail, so a mail fetched twice after a crash
is one SMS.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from appliance.domain.identifiers import normalise_phone
from appliance.intake.errors import RejectedInput
from appliance.intake.idempotency import mail_key
from appliance.intake.spool import Spool, SpoolEntry
from appliance.mail.errors import MailParseError
from appliance.mail.parse import ParsedMail, parse_mail
from appliance.sms.inbound_http import TEXT_MAX, InboundSms

VIA = "mail"                      # meta["via"] of a spool entry from a gateway's mail
KIND = "sms-gateway"              # MailAccount.kind of such an account
REGEX_MAX = 200
_SEPARATORS = re.compile(r"[\s\-/().]")


@dataclass(frozen=True)
class MailSms(InboundSms):
    """An SMS a gateway sent as mail, read without the database: the sender is found at commit, with the
    account's settings as they are then (so a quarantined mail re-processed after a fix uses the fix)."""

    mail_key: str = ""
    tenant_id: int = 0
    account_id: int = 0
    regex: str = ""
    subject: str = ""
    from_header: str = ""

    @property
    def key(self) -> str:
        """The idempotency key: Message-ID plus digest, like the mail channel's."""
        return "sms-" + self.mail_key


def check_regex(pattern: str) -> str:
    """'' when `pattern` is usable for the sender, else why not."""
    if len(pattern) > REGEX_MAX:
        return f"must be at most {REGEX_MAX} characters"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"is not a regular expression: {exc}"
    if compiled.groups and "number" not in compiled.groupindex and compiled.groups > 1:
        return "has several groups: name the one with the number (?P<number>…)"
    return ""


def meta_for(account_id: int, tenant_id: int, number: str, regex: str, name: str) -> dict[str, Any]:
    """What the fetch loop writes beside each mail of an SMS-gateway account."""
    return {"via": VIA, "account_id": account_id, "tenant_id": tenant_id, "number": number,
            "sender_regex": regex, "account": name}


class SmsSpoolIntake:
    """The fetch loop's `pipeline` for an SMS-gateway account: `accept` spools into the SMS channel (fsync)."""

    def __init__(self, spool: Spool, metrics: Any = None) -> None:
        self.spool, self.metrics = spool, metrics

    async def accept(self, entries: list[SpoolEntry]) -> str:
        """Write the entries durably into the SMS spool; the SMS service's drain loop delivers them."""
        segment = await asyncio.get_running_loop().run_in_executor(None, self.spool.write, entries)
        if self.metrics is not None:  # counted as the SMS channel's, like the SMS pipeline's own input
            self.metrics.inc("intake.sms.received", len(entries))
        return segment.name


def find_sender(subject: str, sender_header: str, regex: str) -> str:
    """The sender number as the gateway wrote it: the From local part, or the regex's match in Subject, then
    From; RejectedInput naming where it looked."""
    if not regex:
        local = parseaddr(sender_header)[1].rpartition("@")[0]
        candidate = _SEPARATORS.sub("", local)
        if not candidate.lstrip("+").isdigit():
            raise RejectedInput(f"no sender number in the From local part {local or sender_header!r} of this "
                                f"SMS-gateway mail; set the account's sender regex if the gateway writes it elsewhere")
        return candidate
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise RejectedInput(f"the account's sender regex {regex!r} is not a regular expression: {exc}") from None
    for text in (subject, sender_header):
        hit = compiled.search(text)
        if hit is None:
            continue
        value = hit.group("number") if "number" in compiled.groupindex else hit.group(1 if compiled.groups else 0)
        value = _SEPARATORS.sub("", value or "")
        if value.lstrip("+").isdigit():
            return value
    raise RejectedInput(f"the sender regex {regex!r} finds no number in Subject {subject[:120]!r} or From "
                        f"{sender_header[:120]!r} of this SMS-gateway mail")


def _text(mail: ParsedMail) -> str:
    # Only a bare text/plain mail with an empty body is an empty SMS; without a plain body there is no SMS.
    if not mail.text and (mail.content_type != "text/plain" or mail.attachments):
        raise RejectedInput("this SMS-gateway mail has no text/plain part to read the SMS from")
    text = mail.text.replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:
        raise RejectedInput(f"the SMS text of this mail has {len(text)} characters, more than {TEXT_MAX}")
    return text


def from_entry(entry: SpoolEntry) -> MailSms:
    """The SMS in a gateway's spooled mail; RejectedInput with the reason when it has none."""
    number = str(entry.meta.get("number", ""))
    if not number:
        raise RejectedInput(f"mail account {entry.meta.get('account', '?')} is an SMS gateway without a service "
                            "number; set it on the account, then re-process")
    try:  # the mail channel's parser: one charset rule (declared, else UTF-8, else Latin-1) for every mail
        mail = parse_mail(entry.raw)
    except MailParseError as exc:
        raise RejectedInput(f"unreadable SMS-gateway mail: {exc}") from None
    subject, sender_header = mail.headers.get("subject", ""), mail.headers.get("from", "")
    text = _text(mail)
    # The key hashes the Message-ID header as written (mail_key strips <> and spaces), as it always did.
    message_id = mail.headers.get("message-id", "")
    key = mail_key(message_id, entry.raw)
    return MailSms("", number, text, message_id.strip("<> ")[:100] or key[-16:], mail_key=key,
                   tenant_id=int(entry.meta.get("tenant_id") or 0), account_id=int(entry.meta.get("account_id") or 0),
                   regex=str(entry.meta.get("sender_regex", "")), subject=subject[:1000],
                   from_header=sender_header[:1000])


def sender_number(raw: str, region: str) -> str:
    """E.164 of the sender as the gateway wrote it: 00… and +… international, 0… national in `region`, bare
    digits international without the plus (what gateways put in addresses)."""
    text = raw if raw.startswith(("+", "0")) else "+" + raw
    try:
        return normalise_phone(text, region)
    except ValueError as exc:
        raise RejectedInput(f"the sender {raw!r} of this SMS-gateway mail {exc}") from None
