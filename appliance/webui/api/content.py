"""Text blocks and reply templates over the API (E3–E5): CRUD, delete, render for a ticket, preview, and what
the reply editor of one ticket offers."""
from __future__ import annotations

from aiohttp import web

from appliance.domain.schema import Field, Schema
from appliance.models.access import content
from appliance.webui.api.base import api, object_id, read_json, respond, run
from appliance.webui.api.crud import _register

BLOCKS, TEMPLATES = content.TextBlockResource(), content.ReplyTemplateResource()
for _res in (BLOCKS, TEMPLATES):
    _register(_res)


@api("DELETE", r"/text-blocks/{id:\d+}", "Delete a text block you may change", "text-blocks")
async def delete_block(request: web.Request) -> web.Response:
    """Delete one text block."""
    await run(request, BLOCKS.delete, object_id(request))
    return web.Response(status=204)


@api("DELETE", r"/reply-templates/{id:\d+}", "Delete a reply template you may change", "reply-templates")
async def delete_template(request: web.Request) -> web.Response:
    """Delete one reply template."""
    await run(request, TEMPLATES.delete, object_id(request))
    return web.Response(status=204)


@api("POST", r"/text-blocks/{id:\d+}/render", "A text block rendered for {ticket_id} (the sample ticket without)",
     "text-blocks", Schema("render", (Field("ticket_id", "id", nullable=True),)))
async def render_block(request: web.Request) -> web.Response:
    """Render a text block with a ticket's variables."""
    return respond(await run(request, content.render_block, object_id(request), await read_json(request)))


@api("POST", r"/reply-templates/{id:\d+}/render", "A reply template rendered for {ticket_id} (the sample ticket "
     "without)", "reply-templates", Schema("render", (Field("ticket_id", "id", nullable=True),)))
async def render_template(request: web.Request) -> web.Response:
    """Render a reply template with a ticket's variables."""
    return respond(await run(request, content.render_template, object_id(request), await read_json(request)))


@api("POST", "/text-blocks/preview", "Check and render unsaved texts against a ticket or the sample ticket",
     "text-blocks", content.PREVIEW_SCHEMA)
async def preview(request: web.Request) -> web.Response:
    """Preview of the editor: unknown variables answer 400 naming the field."""
    return respond(await run(request, content.preview, await read_json(request)))


@api("GET", r"/tickets/{id:\d+}/reply-options", "Text blocks, #shortcuts, templates and the rendered default "
     "template for a reply on this ticket", "tickets")
async def reply_options(request: web.Request) -> web.Response:
    """What the reply editor offers on one ticket."""
    return respond(await run(request, content.reply_options, object_id(request)))
