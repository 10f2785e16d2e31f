"""SMS in from an HTTP(S) gateway (C10): the JSON a gateway posts, checked field by field, becomes one
spool entry of the SMS channel, so it is fsynced before the gateway hears 202 and then takes the same
intake path as a modem's PDU (appliance.sms.intake): routed by the number it was sent to, threaded onto
the sender's SMS ticket, and made idempotent by the gateway's own message id.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from appliance.domain.identifiers import normalise_phone
from appliance.intake.errors import RejectedInput
from appliance.intake.spool import SpoolEntry

VIA = "http"                 # meta["via"] of a spool entry from a gateway
FIELDS = ("from", "to", "text", "id")
SENDER_MAX = 40
TEXT_MAX = 20000             # a concatenated SMS has at most 255 parts of 153 characters
ID_MAX = 150                 # the idempotency key adds a prefix; Message.idempotency_key holds 200


@dataclass(frozen=True)
class InboundSms:
    """One SMS a gateway received: sender (number or alphanumeric name), our number, text, its id."""

    sender: str
    to: str
    text: str
    gateway_id: str

    @property
    def key(self) -> str:
        """The idempotency key: the same gateway id twice is one message."""
        return f"sms-http:{self.gateway_id}"


def _string(data: dict[str, Any], name: str, limit: int, errors: dict[str, str]) -> str:
    value = data.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and name == "id":
        value = str(value)  # gateways number their messages as often as they name them
    if not isinstance(value, str) or (name != "text" and not value.strip()):
        errors[name] = "is required and must be a string" + (" or an integer" if name == "id" else "")
        return ""
    if len(value) > limit:
        errors[name] = f"must be at most {limit} characters"
        return ""
    return value if name == "text" else value.strip()


def parse(data: Any, region: str) -> tuple[InboundSms | None, dict[str, str]]:
    """The SMS of a gateway's JSON body, or the errors by field name; numbers read in `region`."""
    if not isinstance(data, dict):
        return None, {"body": "must be a JSON object with from, to, text and id"}
    errors = {name: "is not a known field" for name in sorted(set(data) - set(FIELDS))}
    sender = _string(data, "from", SENDER_MAX, errors)
    to_raw = _string(data, "to", SENDER_MAX, errors)
    text = _string(data, "text", TEXT_MAX, errors)
    gateway_id = _string(data, "id", ID_MAX, errors)
    to = ""
    if to_raw:
        try:
            to = normalise_phone(to_raw, region)
        except ValueError as exc:
            errors["to"] = str(exc)
    if sender and sender.lstrip("+").replace(" ", "").isdigit():
        try:  # a number: E.164 like a modem's sender; a name (alphanumeric sender) stays as sent
            sender = normalise_phone(sender, region)
        except ValueError as exc:
            errors["from"] = str(exc)
    if errors:
        return None, errors
    return InboundSms(sender, to, text, gateway_id), {}


def to_entry(sms: InboundSms) -> SpoolEntry:
    """The spool entry of a checked SMS (raw: its JSON, what quarantine shows)."""
    raw = json.dumps({"from": sms.sender, "to": sms.to, "text": sms.text, "id": sms.gateway_id},
                     ensure_ascii=False, sort_keys=True).encode("utf-8")
    return SpoolEntry(raw, f"http:{sms.gateway_id}", {"via": VIA, "number": sms.to})


def from_entry(entry: SpoolEntry) -> InboundSms:
    """Read a spooled gateway SMS back; RejectedInput when the spool holds something else."""
    try:
        data = json.loads(entry.raw.decode("utf-8"))
        return InboundSms(str(data["from"]), str(data["to"]), str(data["text"]), str(data["id"]))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise RejectedInput(f"unreadable SMS from the HTTP gateway: {exc!r}") from None
