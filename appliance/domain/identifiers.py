"""Normalising customer identifiers so every channel finds the same customer (D3, B2)."""
from __future__ import annotations

import re

import phonenumbers

from appliance.domain.errors import ValidationError

# RFC 5321 §4.5.3.1: 64-octet local part, 254 in all (the forward path minus its angle brackets).
_EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")
_NUMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-/.]{0,63}$")
KINDS = ("phone", "email", "number", "external")


def normalise_phone(raw: str, region: str = "DE") -> str:
    """E.164 form of a phone number, national numbers read in `region`; raises ValueError."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 40:
        raise ValueError("must be a phone number")
    text = raw.strip()
    if text.startswith("00"):  # international prefix used in most of Europe
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """A lower-cased, trimmed e-mail address; raises ValueError when it is not one."""
    if not isinstance(raw, str):
        raise ValueError("must be an e-mail address")
    text = raw.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    # Local parts are case-sensitive by the letter of RFC 5321 §2.4 but no real system treats them so;
    # lower-casing makes the identification match what people type.
    text = text.lower()
    if len(text) > 254 or not _EMAIL_RE.match(text):
        raise ValueError("is not an e-mail address")
    return text


def normalise_customer_number(raw: str) -> str:
    """A customer number in canonical form: trimmed, upper-case, inner spaces removed."""
    if not isinstance(raw, str):
        raise ValueError("must be a customer number")
    text = re.sub(r"\s+", "", raw).upper()
    if not _NUMBER_RE.match(text):
        raise ValueError("must be 1-64 letters, digits, '-', '/' or '.'")
    return text


def normalise(kind: str, raw: str, region: str = "DE") -> str:
    """Normalise an identifier of any kind; raises ValueError."""
    if kind == "phone":
        return normalise_phone(raw, region)
    if kind == "email":
        return normalise_email(raw)
    if kind == "number":
        return normalise_customer_number(raw)
    if kind == "external":
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
            raise ValueError("must be 1-200 characters")
        return raw.strip()
    raise ValueError("kind must be one of " + ", ".join(KINDS))


def normalise_all(values: dict[str, list[str]], region: str) -> list[tuple[str, str]]:
    """(kind, value) pairs from lists per kind, de-duplicated; ValidationError names `kind[index]`."""
    errors: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for kind, raws in values.items():
        for i, raw in enumerate(raws):
            try:
                pair = (kind, normalise(kind, raw, region))
            except ValueError as exc:
                errors[f"{kind}s[{i}]" if kind != "number" else "number"] = str(exc)
                continue
            if pair not in pairs:
                pairs.append(pair)
    if errors:
        raise ValidationError(errors)
    return pairs
