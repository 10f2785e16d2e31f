"""The console password: an argon2id hash in the data directory, made at `init`, with a lockout.

The lockout is kept in a small file beside the hash, so unplugging the cable or restarting the console
does not reset the count of wrong guesses.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.security.passwords import generate_password, hash_password, verify_password
from appliance.store import write_durably

HASH_FILE = Path("keys") / "console.hash"
LOCKOUT_FILE = Path("console-lockout.json")


@dataclass(frozen=True)
class AuthResult:
    """The outcome of a password attempt: ok, or locked for some seconds, or just wrong."""

    ok: bool
    locked_for_s: int = 0
    no_password: bool = False


def hash_path(root: Path) -> Path:
    """Where the console password hash lives in a data directory."""
    return root / HASH_FILE


def set_console_password(root: Path) -> str:
    """Make a new random console password, store its hash, clear any lockout; returns the password."""
    password = generate_password()
    path = hash_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_durably(path, hash_password(password).encode())
    os.chmod(path, 0o600)
    (root / LOCKOUT_FILE).unlink(missing_ok=True)
    return password


def ensure_console_password(root: Path) -> str | None:
    """First boot: make the console password unless one exists; returns it, or None."""
    return None if hash_path(root).exists() else set_console_password(root)


def _read_lockout(root: Path) -> dict:
    try:
        state = json.loads((root / LOCKOUT_FILE).read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_lockout(root: Path, state: dict) -> None:
    path = root / LOCKOUT_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def check_console_password(root: Path, password: str, max_failures: int, lockout_s: int,
                           now: float | None = None) -> AuthResult:
    """Check a password; `max_failures` wrong ones in a row lock the console for `lockout_s`."""
    now = time.time() if now is None else now
    state = _read_lockout(root)
    locked_until = float(state.get("locked_until", 0) or 0)
    if locked_until > now:
        return AuthResult(False, locked_for_s=int(locked_until - now) + 1)
    try:
        stored = hash_path(root).read_text().strip()
    except FileNotFoundError:
        return AuthResult(False, no_password=True)
    if verify_password(stored, password):
        if state:
            (root / LOCKOUT_FILE).unlink(missing_ok=True)
        return AuthResult(True)
    failures = int(state.get("failures", 0) or 0) + 1
    if failures >= max_failures:
        _write_lockout(root, {"failures": 0, "locked_until": now + lockout_s})
        return AuthResult(False, locked_for_s=lockout_s)
    _write_lockout(root, {"failures": failures, "locked_until": 0})
    return AuthResult(False)
