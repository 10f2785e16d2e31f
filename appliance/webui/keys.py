"""Typed application keys for what handlers share."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from appliance.bus import Bus
from appliance.config import Config
from appliance.db import Database
from appliance.metrics import Metrics
from appliance.supervisor import Supervisor

CONFIG = web.AppKey("config", Config)
DB = web.AppKey("db", Database)
BUS = web.AppKey("bus", Bus)
METRICS = web.AppKey("metrics", Metrics)
SUPERVISOR = web.AppKey("supervisor", Supervisor)
LOGIN_LIMITER = web.AppKey("login_limiter", Any)
STORE = web.AppKey("store", Any)  # the DocumentStore (set by the web service)
USER = web.RequestKey("user", Any)  # the logged-in User, or None
