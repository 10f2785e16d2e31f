"""Notification receivers: the admin console's form checked field by field, the rows in the database
(secrets sealed), and the `Target`s the agent sends to.

Two sources feed the agent: rows made in the admin console (`TrapReceiver`), and the configuration
key `snmp.trap_receivers`, which keeps working and uses the agent's own community or v3 user.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Mapping

from appliance.models.auth import utcnow
from appliance.models.snmp import TrapReceiver
from appliance.security.secrets import SecretBox, SecretError, hint
from appliance.snmp.credentials import MIN_PASSPHRASE

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                     r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
USER_RE = re.compile(r"^[\x21-\x7e]{1,32}$")   # RFC 3414 usmUserName SIZE(1..32); printable, no blanks
COMMUNITY_MAX = 64          # the messages below say these limits in words
PASSPHRASE_MAX = 128
DEFAULT_PORT = 162                               # RFC 3413 §3.1: snmpTrap over UDP
VERSIONS = ("v2c", "v3")


def N_(message: str) -> str:
    """Marks a message for the UI catalogues (the page translates it); this layer knows no language."""
    return message


PASSPHRASE_ERRORS = {"auth": N_("the authentication passphrase must have 8–128 characters"),
                     "priv": N_("the privacy passphrase must have 8–128 characters")}


@dataclass(frozen=True)
class Target:
    """Where one receiver is and how to speak to it (secrets open; never stored like this)."""

    name: str
    host: str
    port: int
    version: str
    community: str = ""
    user: str = ""
    auth: str = ""
    priv: str = ""


def purpose(receiver_id: int, column: str) -> str:
    """The associated data a sealed column is bound to (its row and column)."""
    return f"trap_receiver.{receiver_id}.{column}"


# --- the form ----------------------------------------------------------------------------------------
def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def check_host(host: str) -> str | None:
    """None when `host` is an IP address or a host name, else what is wrong."""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if not HOST_RE.match(host):
        return N_("must be a host name or an IP address")
    return None


def validate(form: Mapping[str, Any], existing: TrapReceiver | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Checked values and a message per bad field. Empty secrets on an edit keep the stored ones."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = _text(form, "name")
    if not NAME_RE.match(name):
        errors["name"] = N_("must be 1–64 letters, digits, spaces, dots, dashes or underscores")
    out["name"] = name
    host = _text(form, "host")
    problem = N_("is required") if not host else check_host(host)
    if problem:
        errors["host"] = problem
    out["host"] = host
    port = _text(form, "port") or str(DEFAULT_PORT)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        errors["port"] = N_("must be a UDP port 1–65535 (162 is the standard)")
    else:
        out["port"] = int(port)
    version = _text(form, "version") or "v3"
    if version not in VERSIONS:
        errors["version"] = N_("must be v2c or v3")
    out["version"] = version
    out["enabled"] = form.get("enabled") in ("on", "true", "1", True)
    if version == "v2c":
        _check_v2c(form, existing, out, errors)
    elif version == "v3":
        _check_v3(form, existing, out, errors)
    return out, errors


def _keeps(existing: TrapReceiver | None, column: str, version: str) -> bool:
    """An edit that leaves a secret empty keeps the stored one, if the version did not change."""
    return existing is not None and existing.version == version and bool(getattr(existing, column))


def _check_v2c(form: Mapping[str, Any], existing: TrapReceiver | None, out: dict, errors: dict) -> None:
    community = form.get("community", "")
    community = community if isinstance(community, str) else ""
    if not community and not _keeps(existing, "community_sealed", "v2c"):
        errors["community"] = N_("is required for v2c")
    elif len(community) > COMMUNITY_MAX or any(not 0x20 < ord(c) < 0x7F for c in community):
        errors["community"] = N_("must be 1–64 printable characters without spaces")
    out["community"] = community


def _check_v3(form: Mapping[str, Any], existing: TrapReceiver | None, out: dict, errors: dict) -> None:
    user = _text(form, "v3_user")
    if not USER_RE.match(user):
        errors["v3_user"] = N_("must be 1–32 printable characters without spaces")
    out["v3_user"] = user
    for key, column in (("auth", "auth_sealed"), ("priv", "priv_sealed")):
        value = form.get(key, "")
        value = value if isinstance(value, str) else ""
        if not value and _keeps(existing, column, "v3"):
            out[key] = ""
            continue
        if not MIN_PASSPHRASE <= len(value) <= PASSPHRASE_MAX:
            # RFC 3414 §11.2: passphrases shorter than 8 octets are refused.
            errors[key] = PASSPHRASE_ERRORS[key]
        out[key] = value


# --- rows ------------------------------------------------------------------------------------------
def save(box: SecretBox, values: Mapping[str, Any], receiver_id: int | None = None) -> TrapReceiver:
    """Create or update a row from validated values; secrets are sealed, unchanged ones kept."""
    row = TrapReceiver() if receiver_id is None else TrapReceiver.get_by_id(receiver_id)
    row.name, row.host, row.port = values["name"], values["host"], values["port"]
    row.version, row.enabled, row.updated_at = values["version"], values["enabled"], utcnow()
    if row.id is None:
        row.save()  # the id first: sealed values are bound to it
    if row.version == "v2c":
        if values.get("community"):
            row.community_sealed = box.seal(values["community"], purpose(row.id, "community"))
        row.v3_user, row.auth_sealed, row.priv_sealed = "", "", ""
    else:
        row.v3_user = values["v3_user"]
        for key, column in (("auth", "auth_sealed"), ("priv", "priv_sealed")):
            if values.get(key):
                setattr(row, column, box.seal(values[key], purpose(row.id, key)))
        row.community_sealed = ""
    row.save()
    return row


def name_taken(name: str, receiver_id: int | None) -> bool:
    """True when another receiver has this name."""
    q = TrapReceiver.select().where(TrapReceiver.name == name)
    if receiver_id is not None:
        q = q.where(TrapReceiver.id != receiver_id)
    return q.exists()


def describe(row: TrapReceiver, box: SecretBox) -> dict[str, Any]:
    """A row as the console shows it: secrets only as a hint, never in full."""
    def peek(column: str, key: str) -> str:
        try:
            return hint(box.open(getattr(row, column), purpose(row.id, key)))
        except SecretError:
            return "cannot be read: enter it again"
    return {"id": row.id, "name": row.name, "host": row.host, "port": row.port, "version": row.version,
            "enabled": row.enabled, "v3_user": row.v3_user, "community": peek("community_sealed", "community"),
            "auth": peek("auth_sealed", "auth"), "priv": peek("priv_sealed", "priv")}


def target_of(row: TrapReceiver, box: SecretBox) -> Target:
    """The row with its secrets open, for the agent (raises SecretError if one cannot be opened)."""
    return Target(f"receiver-{row.id}", row.host, row.port, row.version,
                  box.open(row.community_sealed, purpose(row.id, "community")), row.v3_user,
                  box.open(row.auth_sealed, purpose(row.id, "auth")),
                  box.open(row.priv_sealed, purpose(row.id, "priv")))


def all_rows() -> list[TrapReceiver]:
    """Every receiver, by name."""
    return list(TrapReceiver.select().order_by(TrapReceiver.name))
