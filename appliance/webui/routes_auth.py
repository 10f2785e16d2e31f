"""Login, logout and password change pages."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session

from appliance import accounts
from appliance.accounts import LoginOutcome
from appliance.webui.keys import USER, CONFIG, DB, LOGIN_LIMITER
from appliance.webui.security import csrf_token

routes = web.RouteTableDef()


def _home_for(role: str) -> str:
    return "/admin" if role == "admin" else "/desk"


def _safe_next(target: str | None) -> str | None:
    # Only local paths: an open redirect would let a phishing link bounce through our login.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@routes.get("/")
async def index(request: web.Request) -> web.StreamResponse:
    """Send people where they belong."""
    user = request[USER]
    raise web.HTTPFound(_home_for(user.role) if user else "/login")


@routes.get("/login")
@aiohttp_jinja2.template("login.html")
async def login_form(request: web.Request) -> dict:
    """The login page."""
    return {"csrf": await csrf_token(request), "next": request.query.get("next", ""), "error": ""}


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Check credentials with lockout and a per-address rate limit."""
    form = await request.post()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    ctx = {"csrf": await csrf_token(request), "next": form.get("next", ""), "username": username}
    if not request.app[LOGIN_LIMITER].allow(request.remote or "?"):
        ctx["error"] = "Too many login attempts from your address. Wait a minute and try again."
        return aiohttp_jinja2.render_template("login.html", request, ctx, status=429)
    sec = request.app[CONFIG].section("security")
    result = await request.app[DB].call(accounts.authenticate, username, password,
                                        sec["login_max_failures"], sec["lockout_s"])
    if result.outcome != LoginOutcome.OK:
        ctx["error"] = {
            LoginOutcome.BAD_CREDENTIALS: "Wrong user name or password.",
            LoginOutcome.LOCKED: f"Too many failed logins: this account is locked for "
                                 f"{max(1, round(result.locked_for_s / 60))} min.",
            LoginOutcome.DISABLED: "This account is disabled. Ask your administrator.",
        }[result.outcome]
        return aiohttp_jinja2.render_template("login.html", request, ctx, status=401)
    user = result.user
    session = await new_session(request)  # a fresh session id on login: no fixation
    session["uid"] = user.id
    session["pwv"] = user.password_hash[-16:]
    if user.must_change_password:
        raise web.HTTPFound("/account/password")
    raise web.HTTPFound(_safe_next(str(form.get("next", ""))) or _home_for(user.role))


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session."""
    (await get_session(request)).invalidate()
    raise web.HTTPFound("/login")


@routes.get("/account/password")
@aiohttp_jinja2.template("password.html")
async def password_form(request: web.Request) -> dict:
    """The change-password page (forced after first boot and resets)."""
    return {"csrf": await csrf_token(request), "user": request[USER], "error": ""}


@routes.post("/account/password")
async def change_password(request: web.Request) -> web.StreamResponse:
    """Change the logged-in user's password."""
    form = await request.post()
    user = request[USER]
    new, repeat = str(form.get("new_password", "")), str(form.get("repeat", ""))
    error = "The two new passwords differ." if new != repeat else await request.app[DB].call(
        accounts.change_password, user.id, str(form.get("current_password", "")), new)
    if error:
        ctx = {"csrf": await csrf_token(request), "user": user, "error": error[0].upper() + error[1:] + "."}
        return aiohttp_jinja2.render_template("password.html", request, ctx, status=400)
    from appliance.models import User  # re-read: the hash changed
    fresh = await request.app[DB].call(User.get_by_id, user.id)
    session = await new_session(request)
    session["uid"] = fresh.id
    session["pwv"] = fresh.password_hash[-16:]
    raise web.HTTPFound(_home_for(fresh.role))
