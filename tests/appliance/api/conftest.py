"""These tests create dozens of users through the API; argon2 with the production cost takes most of a
second per hash on a busy CI box. They run with a cheap argon2id instead: the same code paths, the
same self-describing hash format, a fraction of the time. (The cost itself is the foundation's choice,
tested in tests/appliance/webui.)"""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from appliance.security import passwords


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """A low-cost argon2id hasher for the duration of one test."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
