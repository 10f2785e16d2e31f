"""Who may reach which route: sessions, roles, CSRF, security headers, login rate limit.

Every route needs a logged-in user unless it is listed in PUBLIC_ROUTES; a test walks the router and
proves it, so a new route is private by default.
"""
from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp_session import get_session

from appliance.models import User
from appliance.webui.keys import USER, DB

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# (method, path) pairs reachable without a login, and path prefixes for static assets.
PUBLIC_ROUTES = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz"), ("GET", "/"),
                 ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/password"), ("GET", "/api/v1/openapi.json")}
# Public JSON endpoints that take credentials in the body and set no cookie: CSRF cannot apply.
CSRF_EXEMPT = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/password")}
# Scopes of the bearer token a request came with ("*" for session requests).
TOKEN_SCOPES = web.RequestKey("token_scopes", Any)
PUBLIC_PREFIXES = ("/static/",)
# Pages a user who must change the password may still reach.
PASSWORD_CHANGE_ROUTES = {"/account/password", "/logout"}
ROLE_ATTR = "_required_roles"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def require_role(*roles: str) -> Callable[[Handler], Handler]:
    """Mark a handler as reachable only by users with one of these roles."""
    def mark(handler: Handler) -> Handler:
        setattr(handler, ROLE_ATTR, frozenset(roles))
        return handler
    return mark


def is_public(request: web.Request) -> bool:
    """Whether the matched route is deliberately public."""
    info = request.match_info.route.resource
    canonical = info.canonical if info is not None else request.path
    method = "GET" if request.method == "HEAD" else request.method
    return (method, canonical) in PUBLIC_ROUTES or request.path.startswith(PUBLIC_PREFIXES)


async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token, made on first use."""
    session = await get_session(request)
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers every response carries."""
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach request['user'], refuse anonymous requests to private routes, check roles and CSRF."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer ") and request.path.startswith("/api/"):
        return await _bearer(request, handler, authorization[7:].strip())
    request[TOKEN_SCOPES] = "*"
    session = await get_session(request)
    user = None
    uid = session.get("uid")
    if uid is not None:
        user = await request.app[DB].call(User.get_or_none, User.id == uid)
        if user is None or not user.active or session.get("pwv") != user.password_hash[-16:]:
            # Deleted, disabled, or the password changed elsewhere: this session is over.
            session.invalidate()
            user = None
    request[USER] = user
    if user is None and not is_public(request):
        if _wants_json(request):
            raise web.HTTPUnauthorized(text='{"error": "login_required"}', content_type="application/json")
        raise web.HTTPFound(f"/login?next={request.path_qs}" if request.method == "GET" else "/login")
    if user is not None and user.must_change_password and not is_public(request) \
            and request.path not in PASSWORD_CHANGE_ROUTES:
        if _wants_json(request):
            raise web.HTTPForbidden(text='{"error": "password_change_required"}',
                                    content_type="application/json")
        raise web.HTTPFound("/account/password")
    roles = getattr(handler, ROLE_ATTR, None)
    if roles is not None and (user is None or user.role not in roles):
        raise web.HTTPForbidden(text="You are not allowed to see this page.")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _csrf_exempt(request):
        await check_csrf(request)
    return await handler(request)


def _csrf_exempt(request: web.Request) -> bool:
    info = request.match_info.route.resource
    return info is not None and (request.method, info.canonical) in CSRF_EXEMPT


async def _bearer(request: web.Request, handler: Handler, token: str) -> web.StreamResponse:
    """API requests with `Authorization: Bearer`: no cookie is involved, so no CSRF check (G8)."""
    from appliance.models.access import tokens  # the data layer, imported late: security loads early
    found = await request.app[DB].call(tokens.resolve, token)
    if found is None:
        raise web.HTTPUnauthorized(text='{"error": "invalid_token"}', content_type="application/json",
                                   headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    user, scopes = found
    request[USER], request[TOKEN_SCOPES] = user, scopes
    if user.must_change_password and not is_public(request):
        raise web.HTTPForbidden(text='{"error": "password_change_required"}', content_type="application/json")
    roles = getattr(handler, ROLE_ATTR, None)
    if roles is not None and user.role not in roles:
        raise web.HTTPForbidden(text='{"error": "forbidden"}', content_type="application/json")
    return await handler(request)


async def check_csrf(request: web.Request) -> None:
    """A state-changing request must carry the session's token (form field or header)."""
    session = await get_session(request)
    expected = session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        given = (await request.post()).get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise web.HTTPForbidden(text="The form has expired or did not come from this site. Reload and try again.")


class LoginRateLimiter:
    """At most `per_minute` login attempts per client address in any 60 s window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._attempts: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str, now: float | None = None) -> bool:
        """Record an attempt; False when over the limit."""
        now = now or time.monotonic()
        window = self._attempts[client]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        if len(self._attempts) > 10000:  # forget idle addresses so a scan cannot grow memory forever
            for key in [k for k, v in self._attempts.items() if not v][:5000]:
                del self._attempts[key]
        return True
