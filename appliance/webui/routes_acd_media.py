"""Admin console pages of the ACD's media: after-call survey statistics with charts and CSV export (B17) and
the prompt catalogue with versions, activation and usage (B10). Data comes through the scoped accessor and the
REST API (`api/acd_media.py`, `routes_acd_config.py`); this module renders the pages."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from appliance.domain.errors import Forbidden, ValidationError
from appliance.models.access import Scope, load_actor
from appliance.models.access.acd_media import survey_stats
from appliance.models.auth import utcnow
from appliance.webui.keys import DB, SUPERVISOR, USER
from appliance.webui.locale import N_
from appliance.webui.routes_acd import LEADS
from appliance.webui.security import csrf_token, require_role

routes = web.RouteTableDef()
REPORT_ROLES = ("supervisor", "controlling", "admin")
CHART_W, CHART_H = 640, 160  # the per-day chart's drawing area in SVG units
CHART_TOP = 14                # room above the bars for their values


def day_chart(per_day: list[dict[str, Any]], scale_max: int) -> dict[str, Any]:
    """Bar geometry for the per-day averages (height: the average on the scale; label: the answer count)."""
    if not per_day:
        return {"bars": [], "width": CHART_W, "height": CHART_H, "top": CHART_TOP}
    slot = CHART_W / len(per_day)
    bars = []
    for i, day in enumerate(per_day):
        height = round(CHART_H * (day["average"] or 0) / max(scale_max, 1), 1)
        bars.append({"x": round(i * slot + slot * 0.1, 1), "y": round(CHART_TOP + CHART_H - height, 1),
                     "w": round(slot * 0.8, 1), "h": height, "day": day["day"], "average": day["average"],
                     "answers": day["answers"]})
    return {"bars": bars, "width": CHART_W, "height": CHART_H, "top": CHART_TOP}


def distribution_bars(distribution: dict[str, int]) -> list[dict[str, Any]]:
    """Each answer value with its count and share in per cent (for the horizontal bars)."""
    total = sum(distribution.values()) or 1
    return [{"value": value, "count": count, "percent": round(100 * count / total)}
            for value, count in distribution.items()]


def _names(request: web.Request) -> dict[str, str]:
    service = request.app[SUPERVISOR].service("pbx_bridge")
    bridge = getattr(service, "bridge", None)
    names = dict(getattr(bridge, "agent_names", {}) or {})
    if bridge is not None:
        names.update({q.id: q.name or q.id for q in bridge.engine.queues()})
    return names


@routes.get("/admin/surveys")
@require_role(*REPORT_ROLES)
async def surveys_page(request: web.Request) -> web.Response:
    """Survey statistics per queue or agent for a period, with the filters in the address (bookmarkable)."""
    user = request[USER]
    params = {k: request.query.get(k, "") for k in ("by", "queue", "agent", "since", "until")}
    uid, remote = user.id, request.remote or ""
    errors: dict[str, str] = {}
    try:
        stats = await request.app[DB].call(lambda: survey_stats(Scope(load_actor(uid, remote)), params,
                                                                utcnow().date()))
    except ValidationError as exc:
        errors, stats = exc.fields, None
    except Forbidden as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    if stats is not None:
        for group in [stats["total"], *stats["groups"]]:
            group["bars"] = distribution_bars(group["distribution"])
        stats["chart"] = day_chart(stats["total"]["per_day"], stats["total"]["scale_max"])
    query = urlencode({k: v for k, v in params.items() if v})
    return aiohttp_jinja2.render_template("admin/surveys.html", request, {
        "user": user, "section": "queues", "stats": stats, "params": params, "errors": errors,
        "names": _names(request), "csv_url": "/api/v1/acd/surveys/answers.csv" + (f"?{query}" if query else ""),
        "api_url": "/api/v1/acd/surveys/stats" + (f"?{query}" if query else "")},
        status=400 if errors else 200)


PROMPT_STRINGS = (
    N_("Saved."), N_("Uploaded as version %(v)s."), N_("Prompt deleted."), N_("Error"), N_("version %(v)s"),
    N_("active"), N_("plays now"), N_("Activate"), N_("Delete rule"), N_("Hot prompt on"), N_("Hot prompt off"),
    N_("No versions."), N_("No rules: the active version plays."), N_("Not used by any script."),
    N_("scheduled"), N_("holiday"), N_("closed"), N_("from %(a)s"), N_("until %(b)s"),
    N_("queue %(q)s, script version %(v)s, line %(l)s (%(s)s)"), N_("queue %(q)s (running), line %(l)s (%(s)s)"),
    N_("No prompts yet. Upload the first one above."), N_("Really delete this prompt and all its versions?"),
    N_("No hot prompt is switched on."), N_("every caller"), N_("language %(l)s"), N_("Switch off"),
    N_("Switched on."), N_("Switched off."),
)


@routes.get("/admin/prompts")
@require_role(*LEADS)
async def prompts_page(request: web.Request) -> web.Response:
    """The prompt catalogue: upload, preview, versions, activation now / scheduled / by calendar, usage."""
    import json
    from appliance.webui import locale
    return aiohttp_jinja2.render_template("admin/prompts.html", request, {
        "user": request[USER], "section": "queues", "csrf": await csrf_token(request),
        "strings_json": json.dumps(locale.strings(list(PROMPT_STRINGS)), ensure_ascii=False)})
