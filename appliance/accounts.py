"""Log-in rules: first-boot admin, password checks, lockout after repeated failures.

Synchronous functions on the database; async callers go through `Database.call`.
"""
from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from appliance.models import User
from appliance.models.auth import utcnow
from appliance.security.passwords import (generate_password, hash_password, needs_rehash,
                                          password_problem, verify_password)

ADMIN_USERNAME = "admin"
_dummy_hash: str | None = None


def _dummy() -> str:
    # A hash to verify against when the user does not exist, so both paths cost one argon2 run and
    # response time does not reveal which user names exist. Made on first use: it costs ~50 ms.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-real-password-0")
    return _dummy_hash


class LoginOutcome(str, enum.Enum):
    """Why a login did or did not succeed."""

    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass
class LoginResult:
    """The outcome and, on success, the user."""

    outcome: LoginOutcome
    user: User | None = None
    locked_for_s: int = 0


def ensure_admin() -> str | None:
    """Create the first admin with a random one-time password; None if an admin exists."""
    if User.select().where(User.username == ADMIN_USERNAME).exists():
        return None
    password = generate_password()
    User.create(username=ADMIN_USERNAME, display_name="Administrator", role="admin",
                password_hash=hash_password(password), must_change_password=True)
    return password


def reset_password(username: str = ADMIN_USERNAME) -> str:
    """Give a user a new one-time password (they must change it at next login) and unlock them."""
    password = generate_password()
    updated = (User.update(password_hash=hash_password(password), must_change_password=True,
                           failed_logins=0, locked_until=None, active=True)
               .where(User.username == username).execute())
    if not updated:
        if username != ADMIN_USERNAME:
            raise LookupError(f"no user named {username!r}")
        User.create(username=ADMIN_USERNAME, display_name="Administrator", role="admin",
                    password_hash=hash_password(password), must_change_password=True)
    return password


def authenticate(username: str, password: str, max_failures: int, lockout_s: int,
                 now: datetime.datetime | None = None) -> LoginResult:
    """Check a login, counting failures and locking the account after `max_failures`."""
    now = now or utcnow()
    user = User.get_or_none(User.username == username)
    if user is None:
        verify_password(_dummy(), password)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if user.locked_until and user.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED, locked_for_s=int((user.locked_until - now).total_seconds()) + 1)
    if not verify_password(user.password_hash, password):
        failures = user.failed_logins + 1
        locked = now + datetime.timedelta(seconds=lockout_s) if failures >= max_failures else None
        User.update(failed_logins=0 if locked else failures, locked_until=locked).where(
            User.id == user.id).execute()
        if locked:
            return LoginResult(LoginOutcome.LOCKED, locked_for_s=lockout_s)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if not user.active:
        return LoginResult(LoginOutcome.DISABLED)
    changes: dict = {}
    if user.failed_logins or user.locked_until:
        changes.update(failed_logins=0, locked_until=None)
    if needs_rehash(user.password_hash):
        changes["password_hash"] = hash_password(password)
    if changes:
        User.update(**changes).where(User.id == user.id).execute()
    return LoginResult(LoginOutcome.OK, user)


def change_password(user_id: int, current: str, new: str) -> str | None:
    """Change a password; returns why not, or None on success."""
    user = User.get_by_id(user_id)
    if not verify_password(user.password_hash, current):
        return "the current password is wrong"
    if current == new:
        return "the new password must differ from the current one"
    problem = password_problem(new, user.username)
    if problem:
        return "the new password needs " + problem if problem.startswith("at least") else problem
    User.update(password_hash=hash_password(new), must_change_password=False,
                password_changed_at=utcnow()).where(User.id == user.id).execute()
    return None
