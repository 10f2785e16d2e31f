"""API authentication: tokens from a login, password change, long-lived scoped tokens (G8)."""
from __future__ import annotations

import datetime

from aiohttp import web

from appliance import accounts
from appliance.accounts import LoginOutcome
from appliance.domain.schema import Field, Schema
from appliance.models.access import tokens
from appliance.webui.api.base import api, json_error, object_id, read_json, respond, run
from appliance.webui.keys import CONFIG, DB, LOGIN_LIMITER

TOKEN_REQUEST = Schema("token_request", (Field("username", required=True, max_length=150),
                                         Field("password", required=True, max_length=200)))
PASSWORD_REQUEST = Schema("password_request", (Field("username", required=True, max_length=150),
                                               Field("password", required=True, max_length=200),
                                               Field("new_password", required=True, max_length=200)))


async def _login(request: web.Request, schema: Schema):
    from appliance.domain.errors import ValidationError
    try:
        data = schema.validate(await read_json(request))
    except ValidationError as exc:
        raise json_error(400, "validation", "some fields are wrong", exc.fields) from None
    if not request.app[LOGIN_LIMITER].allow(request.remote or "?"):
        raise web.HTTPTooManyRequests(text='{"error": "rate_limited"}', content_type="application/json")
    sec = request.app[CONFIG].section("security")
    result = await request.app[DB].call(accounts.authenticate, data["username"], data["password"],
                                        sec["login_max_failures"], sec["lockout_s"])
    if result.outcome != LoginOutcome.OK:
        error = {LoginOutcome.BAD_CREDENTIALS: "bad_credentials", LoginOutcome.LOCKED: "locked",
                 LoginOutcome.DISABLED: "disabled"}[result.outcome]
        raise json_error(401, error)
    return data, result.user


@api("POST", "/auth/token", "Exchange user name and password for a bearer token", "auth", TOKEN_REQUEST,
     public=True)
async def token(request: web.Request) -> web.Response:
    """A short-lived token; 403 password_change_required for one-time passwords."""
    _, user = await _login(request, TOKEN_REQUEST)
    if user.must_change_password:
        raise json_error(403, "password_change_required", "change the password with POST /api/v1/auth/password")
    ttl = datetime.timedelta(hours=request.app[CONFIG].get("web", "session_hours"))
    secret, row = await request.app[DB].call(tokens.issue, user.id, tokens.LOGIN_TOKEN_NAME, "*", ttl)
    return respond({"token": secret, "expires_at": row.expires_at.isoformat() + "Z"})


@api("POST", "/auth/password", "Change a password (also the forced first change)", "auth", PASSWORD_REQUEST,
     public=True)
async def change_password(request: web.Request) -> web.Response:
    """Check the current password, set the new one; answers a fresh token."""
    data, user = await _login(request, PASSWORD_REQUEST)
    problem = await request.app[DB].call(accounts.change_password, user.id, data["password"], data["new_password"])
    if problem:
        raise json_error(400, "validation", "the new password is not acceptable", {"new_password": problem})
    ttl = datetime.timedelta(hours=request.app[CONFIG].get("web", "session_hours"))
    secret, _ = await request.app[DB].call(tokens.issue, user.id, tokens.LOGIN_TOKEN_NAME, "*", ttl)
    return respond({"ok": True, "token": secret})


@api("GET", "/auth/me", "Who the token or session belongs to", "auth")
async def me(request: web.Request) -> web.Response:
    """The acting user with effective permissions."""
    def who(scope):
        a = scope.actor
        return {"id": a.user_id, "username": a.username, "role": a.role, "tenant_id": a.tenant_id,
                "permissions": sorted(p.value for p in a.perms), "team_ids": sorted(a.team_ids),
                "scopes": sorted(a.scopes)}
    return respond(await run(request, who))


@api("GET", "/tokens", "Long-lived API tokens of your tenant", "auth", paged=True)
async def list_tokens(request: web.Request) -> web.Response:
    """Tokens without their secrets."""
    return respond(await run(request, tokens.list_tokens, dict(request.query)))


@api("POST", "/tokens", "Create a long-lived token with scopes (shown once)", "auth", tokens.TOKEN_SCHEMA)
async def create_token(request: web.Request) -> web.Response:
    """A new long-lived token."""
    return respond(await run(request, tokens.create_long_lived, await read_json(request)), 201)


@api("DELETE", r"/tokens/{id:\d+}", "Revoke a long-lived token", "auth")
async def revoke_token(request: web.Request) -> web.Response:
    """Revoke."""
    await run(request, tokens.revoke, object_id(request))
    return respond({"ok": True})


