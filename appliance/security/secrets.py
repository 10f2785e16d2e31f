"""Small secrets kept in the database (SNMP keys, communities) sealed with AES-GCM under the store key.

The key is derived from the document store key with HKDF, so a sealed setting and a stored document
never share a key; the purpose (e.g. "trap_receiver.7.auth") is the associated data, so a value
copied into another row or column fails to open instead of being used there.
"""
from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.errors import ApplianceError

PREFIX = "s1:"          # format marker: a later layout gets another prefix
NONCE_BYTES = 12
HKDF_INFO = b"appliance sealed settings v1"


class SecretError(ApplianceError):
    """A sealed value cannot be opened (wrong key, another row's value, or corrupt)."""


class SecretBox:
    """seal(text, purpose) -> str for a database column; open(sealed, purpose) -> text."""

    def __init__(self, store_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(store_key)
        self._aead = AESGCM(key)

    def seal(self, text: str, purpose: str) -> str:
        """The text encrypted and bound to `purpose`; "" stays "" (nothing to hide)."""
        if not text:
            return ""
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + self._aead.encrypt(nonce, text.encode("utf-8"), purpose.encode())
        return PREFIX + base64.urlsafe_b64encode(blob).decode("ascii")

    def open(self, sealed: str, purpose: str) -> str:
        """The text sealed for `purpose`; raises SecretError naming the purpose otherwise."""
        if not sealed:
            return ""
        if not sealed.startswith(PREFIX):
            raise SecretError(f"{purpose}: not a sealed value")
        try:
            blob = base64.urlsafe_b64decode(sealed[len(PREFIX):].encode("ascii"))
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode()).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise SecretError(f"{purpose}: cannot be opened (wrong key or damaged)") from exc


def hint(secret: str) -> str:
    """What a page may show of a secret: its length and, for long ones, the last two characters."""
    if not secret:
        return ""
    tail = f" ending …{secret[-2:]}" if len(secret) >= 12 else ""
    return f"set ({len(secret)} characters{tail})"
