"""The console password: made at init, argon2 on disk, lockout that survives a restart of the console."""
from __future__ import annotations

from pathlib import Path

from appliance.console import auth


def test_password_is_hashed_and_checked(tmp_path: Path) -> None:
    pw = auth.set_console_password(tmp_path)
    stored = auth.hash_path(tmp_path).read_text()
    assert stored.startswith("$argon2id$") and pw not in stored
    assert oct(auth.hash_path(tmp_path).stat().st_mode)[-3:] == "600"
    assert auth.check_console_password(tmp_path, pw, 3, 60).ok
    assert not auth.check_console_password(tmp_path, pw + "x", 3, 60).ok
    assert auth.ensure_console_password(tmp_path) is None  # init never replaces an existing one


def test_lockout_after_failures_then_expiry(tmp_path: Path) -> None:
    pw = auth.set_console_password(tmp_path)
    now = 1000.0
    assert auth.check_console_password(tmp_path, "wrong", 3, 60, now).locked_for_s == 0
    assert auth.check_console_password(tmp_path, "wrong", 3, 60, now).locked_for_s == 0
    assert auth.check_console_password(tmp_path, "wrong", 3, 60, now).locked_for_s == 60
    # Locked: even the right password is refused until the time is up.
    locked = auth.check_console_password(tmp_path, pw, 3, 60, now + 30)
    assert not locked.ok and 29 <= locked.locked_for_s <= 31
    assert auth.check_console_password(tmp_path, pw, 3, 60, now + 61).ok


def test_no_password_is_said_plainly(tmp_path: Path) -> None:
    result = auth.check_console_password(tmp_path, "x", 3, 60)
    assert not result.ok and result.no_password
