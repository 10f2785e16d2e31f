"""List, create, get and change for every resource: the same four operations, generated."""
from __future__ import annotations

from typing import Mapping

from aiohttp import web

from appliance.bus import EventKind
from appliance.models.access.customers import CustomerResource
from appliance.models.access.org import resources as org_resources
from appliance.models.access.resource import Resource
from appliance.models.access.tickets import TicketResource
from appliance.models.access.wrapup import WrapUpCodeResource
from appliance.webui.api.base import api, object_id, publish, read_json, respond, run

PAGING = ("limit", "cursor", "q")


def all_resources() -> Mapping[str, Resource]:
    """Every CRUD resource by its URL name."""
    found = dict(org_resources())
    found["customers"] = CustomerResource()
    found["tickets"] = TicketResource()
    found["wrap-up-codes"] = WrapUpCodeResource()
    return found


def _register(res: Resource) -> None:
    tag, path = res.name, "/" + res.name
    event_created = EventKind.TICKET_CREATED if res.name == "tickets" else None
    event_updated = EventKind.TICKET_UPDATED if res.name == "tickets" else None

    async def list_items(request: web.Request) -> web.Response:
        return respond(await run(request, res.list, dict(request.query)))

    async def create_item(request: web.Request) -> web.Response:
        body = await read_json(request)
        item = await run(request, res.create, body)
        if event_created and not item.get("duplicate"):
            publish(request, event_created, item.get("tenant_id"), ticket_id=item["id"])
        return respond(item, 200 if item.get("duplicate") else 201)

    async def get_item(request: web.Request) -> web.Response:
        return respond(await run(request, res.get, object_id(request)))

    async def update_item(request: web.Request) -> web.Response:
        body = await read_json(request)
        item = await run(request, res.update, object_id(request), body)
        if event_updated:
            publish(request, event_updated, item.get("tenant_id"), ticket_id=item["id"])
        return respond(item)

    for fn in (list_items, create_item, get_item, update_item):
        fn.__name__ = f"{fn.__name__}_{res.name.replace('-', '_')}"
        fn.__doc__ = f"{fn.__name__.split('_')[0].capitalize()} {res.name}."
    api("GET", path, f"List {res.name} (search with q, filter with {', '.join(res.filters) or 'nothing'})",
        tag, query=PAGING + res.filters, paged=True)(list_items)
    api("POST", path, f"Create one of {res.name}", tag, res.create_schema)(create_item)
    api("GET", path + r"/{id:\d+}", f"Get one of {res.name}", tag)(get_item)
    api("PATCH", path + r"/{id:\d+}", f"Change one of {res.name} (only the fields given; active=false disables)",
        tag, res.update_schema)(update_item)


for _res in all_resources().values():
    _register(_res)
