"""Builds the aiohttp application: middlewares, sessions, templates, routes."""
from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from appliance.bus import Bus
from appliance.config import Config
from appliance.db import Database
from appliance.metrics import Metrics
from appliance.supervisor import Supervisor
from appliance.webui import api, keys, routes_acd, routes_acd_config, routes_admin, routes_fax, routes_auth, routes_live, routes_org
from appliance.webui import routes_mail, routes_quarantine, routes_smime  # the mail channel and intake (issue 7)
from appliance.webui import routes_backup, routes_diagnose, routes_snmp, routes_update  # operations (issue 9)
from appliance.webui import routes_sms  # the SMS channel (issue 8)
from appliance.webui import routes_fax_desk  # faxes from the desk's ticket view (issue 8)
from appliance.webui import routes_acd_media  # ACD media: survey statistics, prompt catalogue (issue 5)
from appliance.webui import locale, routes_desk, routes_queues_admin  # the desk and queue admin (issue 6)
from appliance.webui import routes_calls  # mute, consultation, three-way, wrap-up codes (B3, B12)
from appliance.webui import routes_content, routes_reply  # text blocks, templates, desk e-mail replies (E3–E5)
from appliance.webui import routes_images  # image variables, personal signatures and salutations (E4)
from appliance.webui.security import LoginRateLimiter, authenticate, security_headers

HERE = Path(__file__).parent
SESSION_COOKIE = "appliance_session"
# Update bundles (about 40 MB) are the largest uploads; faxes, prompts and imports are far smaller.
UPLOAD_LIMIT = 96 * 1024 * 1024


def create_app(config: Config, db: Database, bus: Bus, metrics: Metrics, supervisor: Supervisor,
               session_key: bytes) -> web.Application:
    """The whole web application."""
    app = web.Application(middlewares=[security_headers], client_max_size=UPLOAD_LIMIT)
    app[keys.CONFIG], app[keys.DB], app[keys.BUS] = config, db, bus
    app[keys.METRICS], app[keys.SUPERVISOR] = metrics, supervisor
    app[keys.LOGIN_LIMITER] = LoginRateLimiter(config.get("security", "login_rate_per_min"))
    storage = EncryptedCookieStorage(session_key, cookie_name=SESSION_COOKIE, secure=True, httponly=True,
                                     samesite="Strict",
                                     max_age=config.get("web", "session_hours") * 3600)
    setup_session(app, storage)
    app.middlewares.append(authenticate)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"),
                         autoescape=jinja2.select_autoescape(default=True))
    locale.install(app)
    app.router.add_routes(routes_auth.routes)
    app.router.add_routes(routes_admin.routes)
    app.router.add_routes(routes_acd.routes)
    app.router.add_routes(routes_acd_config.routes)
    app.router.add_routes(routes_acd_media.routes)
    app.router.add_routes(routes_fax.routes)
    app.router.add_routes(routes_fax_desk.routes)
    app.router.add_routes(routes_live.routes)
    app.router.add_routes(routes_desk.routes)
    app.router.add_routes(routes_calls.routes)
    app.router.add_routes(routes_reply.routes)
    app.router.add_routes(routes_content.routes)
    app.router.add_routes(routes_images.routes)
    app.router.add_routes(routes_queues_admin.routes)
    app.router.add_routes(api.routes)
    app.router.add_routes(routes_quarantine.routes)
    app.router.add_routes(routes_mail.routes)
    app.router.add_routes(routes_smime.routes)
    app.router.add_routes(routes_sms.routes)
    app.router.add_routes(routes_org.routes)
    routes_backup.setup(app)
    routes_update.setup(app)
    app.router.add_routes(routes_snmp.routes)
    app.router.add_routes(routes_diagnose.routes)
    app.router.add_static("/static/", HERE / "static", name="static")
    return app
