"""The document store: content-addressed, encrypted at rest, tamper-evident."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from appliance.errors import StoreError
from appliance.store import DocumentStore


def test_round_trip_and_encrypted_on_disk(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path, os.urandom(32))
    data = b"%PDF-1.4 fax page " * 100
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.get(digest) == data
    assert data[:20] not in store.path_of(digest).read_bytes()
    assert store.put(data) == digest  # idempotent


def test_tampering_and_wrong_key_are_detected(tmp_path: Path) -> None:
    key = os.urandom(32)
    store = DocumentStore(tmp_path, key)
    digest = store.put(b"customer letter")
    path = store.path_of(digest)
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(StoreError, match="authentication failed"):
        store.get(digest)
    other = DocumentStore(tmp_path, os.urandom(32))
    good = store.put(b"another")
    with pytest.raises(StoreError):
        other.get(good)


def test_bad_ids_and_missing_documents(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path, os.urandom(32))
    with pytest.raises(StoreError, match="not a document id"):
        store.get("../../etc/passwd")
    with pytest.raises(StoreError, match="not in the store"):
        store.get("0" * 64)
