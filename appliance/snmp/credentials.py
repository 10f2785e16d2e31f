"""SNMPv3 credentials and engine identity, made at first boot and kept in data/keys/snmp.json.

No default user or key exists anywhere: `init` generates a user name, an authentication and a
privacy passphrase and a stable SnmpEngineID, stored with mode 0600.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from appliance.snmp.const import ENTERPRISE_PEN
from appliance.snmp.errors import CredentialsError
from appliance.store import write_durably

MIN_PASSPHRASE = 8     # RFC 3414 §11.2: passphrases shorter than 8 octets must be refused
ENGINE_ID_FORMAT_OCTETS = 5  # RFC 3411 §5 SnmpEngineID: format 5, administratively assigned


@dataclass(frozen=True)
class V3Credentials:
    """The SNMPv3 user (SHA-256 authentication, AES-128 privacy) and the agent's engine ID."""

    user: str
    auth: str
    priv: str
    engine_id: str  # hex

    @property
    def engine_id_bytes(self) -> bytes:
        """The SnmpEngineID as octets."""
        return bytes.fromhex(self.engine_id)


def new_engine_id() -> str:
    """An RFC 3411 §5 SnmpEngineID: high bit set, our enterprise number, format 5, 8 random octets."""
    head = (0x80000000 | ENTERPRISE_PEN).to_bytes(4, "big")
    return (head + bytes([ENGINE_ID_FORMAT_OCTETS]) + secrets.token_bytes(8)).hex()


def generate() -> V3Credentials:
    """Fresh random credentials."""
    return V3Credentials(user="monitor-" + secrets.token_hex(3), auth=secrets.token_urlsafe(18),
                         priv=secrets.token_urlsafe(18), engine_id=new_engine_id())


def parse(data: Mapping[str, Any], source: str) -> V3Credentials:
    """Validate a decoded snmp.json; raises CredentialsError naming the file."""
    try:
        creds = V3Credentials(str(data["user"]), str(data["auth"]), str(data["priv"]),
                              str(data["engine_id"]))
        engine = creds.engine_id_bytes
    except (KeyError, TypeError, ValueError) as exc:
        raise CredentialsError(f"{source}: not valid SNMP credentials ({exc!r})") from None
    check(creds, source)
    if not 5 <= len(engine) <= 32:  # RFC 3411 §5: SnmpEngineID is 5..32 octets
        raise CredentialsError(f"{source}: engine_id must be 5-32 octets")
    return creds


def check(creds: V3Credentials, source: str) -> None:
    """Refuse an empty user or short passphrases, naming where they came from."""
    if not creds.user or len(creds.user) > 32:  # RFC 3414 usmUserName SIZE(1..32)
        raise CredentialsError(f"{source}: the SNMPv3 user name must be 1-32 characters")
    for label, phrase in (("auth", creds.auth), ("priv", creds.priv)):
        if len(phrase) < MIN_PASSPHRASE:
            raise CredentialsError(f"{source}: the {label} passphrase must have at least "
                                   f"{MIN_PASSPHRASE} characters")


def load(path: Path) -> V3Credentials:
    """Read and validate data/keys/snmp.json."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"{path}: cannot read SNMP credentials ({exc})") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"{path}: not a JSON object")
    return parse(data, str(path))


def save(path: Path, creds: V3Credentials) -> None:
    """Write durably, readable by the appliance's user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_durably(path, json.dumps(asdict(creds), indent=2).encode())
    path.chmod(0o600)


def ensure(path: Path) -> tuple[V3Credentials, bool]:
    """The stored credentials, generating and saving them first if there are none; (creds, made)."""
    if path.exists():
        return load(path), False
    creds = generate()
    save(path, creds)
    return creds, True


def with_overrides(creds: V3Credentials, config: Mapping[str, Any], source: str) -> V3Credentials:
    """Apply the snmp section's v3_user / v3_auth_key / v3_priv_key where they are set."""
    out = V3Credentials(config.get("v3_user") or creds.user, config.get("v3_auth_key") or creds.auth,
                        config.get("v3_priv_key") or creds.priv, creds.engine_id)
    check(out, source)
    return out


def describe(creds: V3Credentials) -> str:
    """The line `init` shows once: what a monitoring station needs."""
    return (f"snmp v3 user: {creds.user} auth: {creds.auth} priv: {creds.priv} "
            f"(SHA-256/AES-128; engine ID 0x{creds.engine_id})")


MAX_ENGINE_BOOTS = 2147483647  # RFC 3414 §2.2.2: at this value the engine needs new keys


def next_engine_boots(path: Path) -> int:
    """Count this start in the stored snmpEngineBoots and return the new value (RFC 3414 §2.2)."""
    try:
        boots = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        boots = 0
    boots = min(boots + 1, MAX_ENGINE_BOOTS)
    write_durably(path, f"{boots}\n".encode())
    return boots
