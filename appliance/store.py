"""Content-addressed document store: SHA-256 of the plaintext names a file, AES-GCM encrypts it.

Faxes, scans, attachments and recordings live here; the database keeps only the hex name. The name
doubles as the GCM associated data, so a file swapped for another one fails authentication.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.errors import StoreError

NONCE_BYTES = 12
MAGIC = b"APS1"  # format marker, lets a later version change the layout


def fsync_dir(path: Path) -> None:
    """Make a rename or new file in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Write a file so that after return it survives a crash: temp file, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class DocumentStore:
    """put(bytes) → sha256 hex; get(sha) → bytes, verified."""

    def __init__(self, root: Path, key: bytes) -> None:
        if len(key) != 32:
            raise StoreError("document store key must be 32 bytes (AES-256)")
        self.root = root
        self._aead = AESGCM(key)

    def path_of(self, digest: str) -> Path:
        """Where a document lives on disk."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise StoreError(f"not a document id: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Store a document (idempotent) and return its id."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_of(digest)
        if not path.exists():
            nonce = os.urandom(NONCE_BYTES)
            write_durably(path, MAGIC + nonce + self._aead.encrypt(nonce, data, digest.encode()))
        return digest

    def get(self, digest: str) -> bytes:
        """Read and verify a document."""
        path = self.path_of(digest)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"document {digest} is not in the store") from None
        if not blob.startswith(MAGIC):
            raise StoreError(f"document {digest}: unknown format")
        nonce, sealed = blob[4:4 + NONCE_BYTES], blob[4 + NONCE_BYTES:]
        try:
            data = self._aead.decrypt(nonce, sealed, digest.encode())
        except InvalidTag:
            raise StoreError(f"document {digest}: authentication failed (corrupt or wrong key)") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise StoreError(f"document {digest}: content does not match its name")
        return data

    def exists(self, digest: str) -> bool:
        """Whether the store holds a document."""
        return self.path_of(digest).exists()

    def delete(self, digest: str) -> None:
        """Remove a document (the archive moves; nothing else deletes)."""
        self.path_of(digest).unlink(missing_ok=True)
