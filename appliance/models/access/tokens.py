"""API bearer tokens: short-lived ones from a login, long-lived scoped ones made by admins (G8)."""
from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any, Mapping

from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models import ApiToken, User
from appliance.models.access.resource import to_jsonable
from appliance.models.access.scope import Page, Scope
from appliance.models.auth import utcnow

TOKEN_PREFIX = "apt_"
LOGIN_TOKEN_NAME = "login"
SCOPE_NAMES = ("*", "org.*", "org.read", "org.write", "users.write", "customers.*", "customers.read",
               "customers.write", "tickets.*", "tickets.read", "tickets.write", "tickets.delete", "tickets.assign",
               "data.transfer", "audit.read", "tokens.write", "history.*", "monitor.*", "reports.read")


def digest(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user_id: int, name: str, scopes: str, ttl: datetime.timedelta | None) -> tuple[str, ApiToken]:
    """A new token (shown once) and its row."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    # Expired tokens are useless; dropping them here keeps the table from growing with every login.
    ApiToken.delete().where(ApiToken.expires_at < utcnow() - datetime.timedelta(days=1)).execute()
    row = ApiToken.create(user=user_id, token_hash=digest(token), name=name, scopes=scopes,
                          expires_at=utcnow() + ttl if ttl else None)
    return token, row


def resolve(token: str) -> tuple[User, str] | None:
    """The active user and scopes behind a token, or None (unknown, expired, disabled)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = ApiToken.get_or_none(ApiToken.token_hash == digest(token))
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    user = User.get_or_none(User.id == row.user_id)
    if user is None or not user.active:
        return None
    return user, row.scopes


def _scope_check(value: list[str]) -> str | None:
    bad = [s for s in value if s not in SCOPE_NAMES]
    return "unknown scope(s): " + ", ".join(bad)[:200] if bad else None


TOKEN_SCHEMA = Schema("api_token", (
    Field("name", required=True, max_length=100), Field("user_id", "id", help="default: yourself"),
    Field("scopes", "list", max_length=40, check=_scope_check, help="e.g. tickets.*, customers.read; * for all"),
    Field("expires_at", "datetime", nullable=True)))


def _json(row: ApiToken) -> dict[str, Any]:
    return {"id": row.id, "user_id": row.user_id, "name": row.name, "scopes": row.scopes.split(","),
            "created_at": to_jsonable(row.created_at), "expires_at": to_jsonable(row.expires_at)}


def create_long_lived(scope: Scope, raw: Any) -> dict[str, Any]:
    """An admin makes a long-lived token with scopes for a user of their tenant (or themselves)."""
    scope.require(Perm.TOKENS_WRITE)
    data = TOKEN_SCHEMA.validate(raw)
    user_id = data.get("user_id") or scope.actor.user_id
    if user_id != scope.actor.user_id:
        q = User.select().where(User.id == user_id)
        if not scope.actor.system_admin:
            q = q.where(User.tenant == scope.actor.tenant_id)
        if not q.exists():
            raise ValidationError({"user_id": f"unknown user {user_id}"})
    if data.get("expires_at") is not None and data["expires_at"] <= utcnow():
        raise ValidationError({"expires_at": "must be in the future"})
    scopes = ",".join(data.get("scopes") or ["*"])
    token, row = issue(user_id, data["name"], scopes, None)
    if data.get("expires_at"):
        ApiToken.update(expires_at=data["expires_at"]).where(ApiToken.id == row.id).execute()
        row = ApiToken.get_by_id(row.id)
    scope.audit("create", row, tenant_id=scope.actor.tenant_id, detail={"name": data["name"], "scopes": scopes},
                object_type="api_token")
    return {**_json(row), "token": token}


def _visible(scope: Scope):
    q = ApiToken.select().join(User).where(ApiToken.name != LOGIN_TOKEN_NAME)
    return q if scope.actor.system_admin else q.where(User.tenant == scope.actor.tenant_id)


def list_tokens(scope: Scope, params: Mapping[str, str]) -> Page:
    """Long-lived tokens of the actor's tenant (never the secrets)."""
    scope.require(Perm.TOKENS_WRITE)
    page = scope.page(_visible(scope), ApiToken, params.get("limit"), params.get("cursor"))
    page.items = [_json(r) for r in page.items]
    return page


def revoke(scope: Scope, token_id: int) -> None:
    """Delete a long-lived token of the actor's tenant; NotFound otherwise."""
    from appliance.domain.errors import NotFound
    scope.require(Perm.TOKENS_WRITE)
    row = _visible(scope).where(ApiToken.id == token_id).first()
    if row is None:
        raise NotFound(f"no api_token {token_id}")
    ApiToken.delete().where(ApiToken.id == row.id).execute()
    scope.audit("delete", None, tenant_id=scope.actor.tenant_id, detail={"id": token_id}, object_type="api_token")
