"""Voice messages (B8, B18) and after-call survey statistics (B17) in the REST API."""
from __future__ import annotations

import asyncio
import csv
import io

from aiohttp import web

from appliance.models.access import acd_media
from appliance.models.auth import utcnow
from appliance.webui.api.base import api, object_id, respond, run
from appliance.webui.keys import STORE

SURVEY_QUERY = ("by", "queue", "agent", "since", "until")


@api("GET", r"/tickets/{id:\d+}/voice-messages", "Voice messages filed on a ticket, with their audio address",
     "acd")
async def ticket_voice_messages(request: web.Request) -> web.Response:
    """List."""
    return respond({"items": await run(request, acd_media.ticket_voice_messages, object_id(request)), "next": None})


@api("GET", r"/voice-messages/{id:\d+}/audio", "The recording of a voice message (for the desk's player)", "acd")
async def voice_audio(request: web.Request) -> web.Response:
    """The audio, decrypted from the document store."""
    vm = await run(request, acd_media.voice_message, object_id(request))
    data = await asyncio.to_thread(request.app[STORE].get, vm.digest)
    return web.Response(body=data, content_type=vm.content_type,
                        headers={"Content-Disposition": f'inline; filename="voice-message-{vm.id}.wav"',
                                 "Cache-Control": "private, no-store"})


@api("GET", "/acd/surveys/stats", "After-call survey statistics per queue or agent: count, average, "
     "distribution, per day (default: the last 30 days)", "acd", query=SURVEY_QUERY)
async def survey_stats(request: web.Request) -> web.Response:
    """Figures."""
    return respond(await run(request, acd_media.survey_stats, dict(request.query), utcnow().date()))


@api("GET", "/acd/surveys/answers.csv", "The survey answers behind the statistics, as CSV", "acd",
     query=SURVEY_QUERY)
async def survey_csv(request: web.Request) -> web.Response:
    """CSV export."""
    rows = await run(request, acd_media.survey_rows, dict(request.query), utcnow().date())
    out = io.StringIO()
    writer = csv.DictWriter(out, acd_media.CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="survey-answers.csv"'})
