"""ACD configuration over HTTP: the prompt catalogue (B10), queue calendars (B9), hot prompts on/off,
and callbacks requested on the web (C13)."""
from __future__ import annotations

import io
import json
import uuid
import wave

from aiohttp import web

from appliance.domain.queue_script.parser import LANGUAGE_RE
from appliance.models.access.prompts import add_version, hot_list, hot_names, switch_hot_prompt
from appliance.pbx.setup import calendar_from_json
from appliance.webui.keys import DB, STORE, SUPERVISOR, USER
from appliance.webui.routes_acd import LEADS, _error, _json, _queue_for, bridge_of
from appliance.webui.security import require_role
from appliance.webui.api import bodies
from appliance.webui.api.base import api

routes = web.RouteTableDef()
MAX_PROMPT_BYTES = 20 * 1024 * 1024
NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_-.")


def audio_kind(data: bytes) -> tuple[str, float | None]:
    """(content type, duration) of a WAV or MP3 upload; ValueError for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(data)) as w:
                return "audio/wav", round(w.getnframes() / float(w.getframerate()), 2)
        except (wave.Error, EOFError, ZeroDivisionError) as exc:
            raise ValueError(f"a broken WAV file ({exc})") from None
    # MP3: an ID3v2 tag, or an MPEG audio frame sync (11 set bits)
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg", None
    raise ValueError("not a WAV or MP3 file")


def _tenant(request: web.Request) -> int | None:
    return getattr(request[USER], "tenant_id", None)


def _prompt_json(p) -> dict:
    return {"id": p.id, "name": p.name, "language": p.language, "content_type": p.content_type,
            "duration_s": p.duration_s, "active": p.active, "shared": p.tenant_id is None,
            "created_at": p.created_at.isoformat(), "active_version": p.active_version}


@api("GET", "/acd/prompts", "The prompt catalogue (B10)", "acd", paged=True, table=routes)
@require_role(*LEADS)
async def list_prompts(request: web.Request) -> web.Response:
    """The catalogue: the tenant's prompts and the shared ones, with which hot prompts are on."""
    from appliance.models.acd import Prompt
    tenant = _tenant(request)

    def fetch():
        q = Prompt.select().order_by(Prompt.name, Prompt.language)
        if tenant is not None:
            q = q.where((Prompt.tenant == tenant) | (Prompt.tenant.is_null()))
        return [_prompt_json(p) for p in q]

    items = await request.app[DB].call(fetch)
    service = request.app[SUPERVISOR].service("pbx_bridge")
    on = getattr(getattr(service, "bridge", None), "hot_prompts", set())
    return web.json_response({"items": items, "next": None, "hot_on": hot_names(on, tenant),
                              "hot": hot_list(on, tenant)})


@api("POST", "/acd/prompts", "Upload a prompt (multipart: name, language, file)", "acd", upload=True, table=routes)
@require_role(*LEADS)
async def upload_prompt(request: web.Request) -> web.Response:
    """Upload (multipart: name, language, file) a WAV or MP3 prompt; a new upload replaces the old audio."""
    from appliance.models.acd import Prompt
    if not request.content_type.startswith("multipart/"):
        raise _error(400, "invalid", "send multipart/form-data with name, language and file", field="file")
    form = await request.post()
    name = str(form.get("name", "")).strip().lower()
    language = str(form.get("language", "en")).strip().lower() or "en"
    upload = form.get("file")
    if not name or len(name) > 64 or set(name) - NAME_OK:
        raise _error(400, "invalid", "name: 1–64 of a–z 0–9 _ - .", field="name")
    if not (2 <= len(language) <= 8 and language.replace("-", "").isalpha()):
        raise _error(400, "invalid", "language: a code such as en, de, sv", field="language")
    if upload is None or not hasattr(upload, "file"):
        raise _error(400, "invalid", "file: the audio file is missing", field="file")
    data = upload.file.read(MAX_PROMPT_BYTES + 1)
    if len(data) > MAX_PROMPT_BYTES:
        raise _error(400, "invalid", "file: at most 20 MB", field="file")
    try:
        content_type, duration = audio_kind(data)
    except ValueError as exc:
        raise _error(400, "invalid", f"file: {exc}", field="file") from None
    digest = request.app[STORE].put(data)
    tenant = _tenant(request)
    # A new upload is the prompt's next version (B10); it plays at once unless `activate` says "later".
    activate = str(form.get("activate", "now")) != "later"
    author = request[USER].id

    def save():
        row = Prompt.get_or_none((Prompt.name == name) & (Prompt.language == language)
                                 & ((Prompt.tenant == tenant) if tenant is not None else Prompt.tenant.is_null()))
        if row is None:
            row = Prompt.create(tenant=tenant, name=name, language=language, digest=digest,
                                content_type=content_type, duration_s=duration)
        pv = add_version(row, digest, content_type, duration, author, activate)
        return {**_prompt_json(Prompt.get_by_id(row.id)), "version": pv.version}

    return web.json_response(await request.app[DB].call(save), status=201)


def _visible_prompt(request: web.Request, prompt_id: int):
    from appliance.models.acd import Prompt
    row = Prompt.get_or_none(Prompt.id == prompt_id)
    tenant = _tenant(request)
    if row is None or (tenant is not None and row.tenant_id not in (None, tenant)):
        raise _error(404, "no_such_prompt", f"No prompt {prompt_id}.")
    return row


@api("GET", r"/acd/prompts/{id:\d+}/audio", "A prompt's audio", "acd", table=routes)
@require_role(*LEADS)
async def prompt_audio(request: web.Request) -> web.Response:
    """The audio, for preview in the browser."""
    row = await request.app[DB].call(_visible_prompt, request, int(request.match_info["id"]))
    data = request.app[STORE].get(row.digest)
    return web.Response(body=data, content_type=row.content_type,
                        headers={"Content-Disposition": f'inline; filename="{row.name}-{row.language}"'})


@api("POST", "/acd/prompts/hot", "Switch a hot prompt on or off", "acd", bodies.HOT_PROMPT, table=routes)
@require_role(*LEADS)
async def hot_prompt(request: web.Request) -> web.Response:
    """Switch a hot prompt on or off at once, for the user's tenant: `{"name": "outage_notice", "on": true}`;
    with `"language": "de"` for the callers of that language only (without: for every caller)."""
    body = await _json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise _error(400, "invalid", "name: the prompt name", field="name")
    if len(name) > 64:
        raise _error(400, "invalid", "name: at most 64 characters", field="name")
    language = body.get("language") or ""
    if not isinstance(language, str) or (language and not LANGUAGE_RE.match(language)):
        raise _error(400, "invalid", "language: a code such as de or en (or none: every caller)", field="language")
    _, bridge = bridge_of(request)
    # stored first, so what callers hear survives a restart; the running bridge follows the stored set.
    # A tenant's lead switches it for that tenant's queues only; the system admin for every tenant's.
    tenant = _tenant(request)
    now_on = await request.app[DB].call(switch_hot_prompt, name, bool(body.get("on")), tenant, request[USER].id,
                                        language)
    bridge.hot_prompts.clear()
    bridge.hot_prompts.update(now_on)
    return web.json_response({"hot_on": hot_names(now_on, tenant), "hot": hot_list(now_on, tenant)})


@api("GET", "/acd/queues/{key}/calendar", "A queue's calendar: opening hours, holidays, time zone (B9)", "acd", table=routes)
@require_role(*LEADS)
async def get_calendar(request: web.Request) -> web.Response:
    """A queue's opening hours, holidays and exceptions (empty object: always open)."""
    row = await request.app[DB].call(_queue_for, request, request.match_info["key"])
    return web.json_response(json.loads(row.calendar) if row.calendar else {})


@api("PUT", "/acd/queues/{key}/calendar", "Replace a queue's calendar", "acd", bodies.CALENDAR, table=routes)
@require_role(*LEADS)
async def put_calendar(request: web.Request) -> web.Response:
    """Set the calendar; checked before saving and applied to the running ACD at once."""
    from appliance.models.acd import AcdQueue
    body = await _json(request)
    text = json.dumps(body) if body else ""
    try:
        calendar = calendar_from_json(text)
    except ValueError as exc:
        raise _error(400, "invalid", str(exc), field="calendar") from None
    key = request.match_info["key"]

    def save():
        row = _queue_for(request, key)
        AcdQueue.update(calendar=text).where(AcdQueue.id == row.id).execute()

    await request.app[DB].call(save)
    service = request.app[SUPERVISOR].service("pbx_bridge")
    bridge = getattr(service, "bridge", None)
    if bridge is not None and key in {q.id for q in bridge.engine.queues()}:
        queue = bridge.engine.queue(key)
        queue.calendar = calendar
        bridge.engine.add_queue(queue)  # replace live: waiting calls keep their places
    return web.json_response(body or {})


@api("POST", "/acd/callbacks", "Ask for a callback in a queue", "acd", bodies.CALLBACK, table=routes)
@require_role("agent", "team_lead", "supervisor", "admin")
async def request_callback(request: web.Request) -> web.Response:
    """C13: ask for a callback (a web form or another system with a token): `{"queue", "number"}`."""
    from appliance.domain.identifiers import normalise_phone
    body = await _json(request)
    queue, number = body.get("queue"), body.get("number")
    try:
        number = normalise_phone(number if isinstance(number, str) else "", body.get("region") or "DE")
    except ValueError as exc:
        raise _error(400, "invalid", f"number {exc}", field="number") from None
    service, bridge = bridge_of(request)
    if not isinstance(queue, str) or queue not in {q.id for q in bridge.engine.queues()}:
        raise _error(400, "invalid", "queue: a known queue key", field="queue")
    call_id = f"cb-{uuid.uuid4().hex[:12]}"
    bridge.request_callback(queue, number, call_id)
    return web.json_response({"call_id": call_id, "queue": queue, "number": number}, status=201)
