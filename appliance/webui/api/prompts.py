"""The prompt catalogue's versions, activation, usage and deletion (B10) in the REST API; upload, the
catalogue list and hot prompts are in routes_acd_config."""
from __future__ import annotations

import asyncio
import datetime

from aiohttp import web

from appliance.models.access import prompts
from appliance.webui.api.base import api, json_error, object_id, read_json, respond, run
from appliance.webui.keys import STORE, SUPERVISOR
from appliance.webui.security import require_role

LEADS = ("team_lead", "supervisor", "admin")
PROMPT = r"/acd/prompts/{id:\d+}"


def running_scripts(request: web.Request) -> dict:
    """Scripts the ACD runs that are not in the database (the simulator's demo queues)."""
    service = request.app[SUPERVISOR].service("pbx_bridge")
    setup, bridge = getattr(service, "setup", None), getattr(service, "bridge", None)
    if bridge is None or setup is None:
        return {}
    return {key: script for key, script in bridge.scripts.items() if key not in setup.queue_tenants}


@api("GET", PROMPT, "A prompt with its versions, activation rules, the version playing now and the script "
     "steps that use it", "acd")
@require_role(*LEADS)
async def prompt_detail(request: web.Request) -> web.Response:
    """Detail."""
    return respond(await run(request, prompts.detail, object_id(request), running_scripts(request)))


@api("DELETE", PROMPT, "Delete a prompt and its versions; 409 naming the script steps while it is used", "acd")
@require_role(*LEADS)
async def delete_prompt(request: web.Request) -> web.Response:
    """Delete."""
    await run(request, prompts.delete_prompt, object_id(request), running_scripts(request))
    return web.Response(status=204)


@api("POST", PROMPT + "/activate", "Make a version the one that plays, now: {\"version\": 2}", "acd")
@require_role(*LEADS)
async def activate(request: web.Request) -> web.Response:
    """Activate."""
    return respond(await run(request, prompts.activate, object_id(request), await read_json(request)))


@api("POST", PROMPT + "/rules", "Play a version in a time window (kind scheduled, starts_at, ends_at), on the "
     "queue calendar's holidays (holiday) or while the queue is closed (closed)", "acd")
@require_role(*LEADS)
async def add_rule(request: web.Request) -> web.Response:
    """Add a rule."""
    return respond(await run(request, prompts.add_rule, object_id(request), await read_json(request)), 201)


@api("DELETE", PROMPT + r"/rules/{rule_id:\d+}", "Remove an activation rule", "acd")
@require_role(*LEADS)
async def delete_rule(request: web.Request) -> web.Response:
    """Remove a rule."""
    await run(request, prompts.delete_rule, object_id(request), object_id(request, "rule_id"))
    return web.Response(status=204)


@api("GET", PROMPT + r"/versions/{version:\d+}/audio", "The audio of one version (preview)", "acd")
@require_role(*LEADS)
async def version_audio(request: web.Request) -> web.Response:
    """Audio."""
    pv = await run(request, prompts.version_of, object_id(request), object_id(request, "version"))
    data = await asyncio.to_thread(request.app[STORE].get, pv.digest)
    return web.Response(body=data, content_type=pv.content_type, headers={"Cache-Control": "private, no-store"})


@api("GET", r"/acd/queues/{key}/prompts/{name}/audio", "What a caller of the queue hears for a prompt now (or "
     "at `at`): language, activation rules and the queue calendar applied; X-Prompt-Version and "
     "X-Prompt-Reason say which version and why", "acd", query=("language", "at"))
@require_role(*LEADS)
async def effective_audio(request: web.Request) -> web.Response:
    """The audio in effect."""
    at = None
    if request.query.get("at"):
        try:
            at = datetime.datetime.fromisoformat(request.query["at"].replace("Z", "+00:00"))
        except ValueError:
            raise json_error(400, "validation", fields={"at": "must be an ISO 8601 time"}) from None
        if at.tzinfo is not None:
            at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    pv, choice = await run(request, prompts.effective, request.match_info["key"], request.match_info["name"],
                           request.query.get("language"), at)
    data = await asyncio.to_thread(request.app[STORE].get, pv.digest)
    return web.Response(body=data, content_type=pv.content_type,
                        headers={"X-Prompt-Version": str(pv.version), "X-Prompt-Reason": choice.reason,
                                 "Cache-Control": "private, no-store"})
