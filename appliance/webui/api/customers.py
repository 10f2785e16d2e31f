"""Customer endpoints beyond CRUD: identification, contact history, notes/tasks/appointments, documents."""
from __future__ import annotations

from aiohttp import web

from appliance.domain import identify as ident
from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Field, Schema
from appliance.models import Tenant
from appliance.models.access import customers
from appliance.webui.api.base import api, json_error, object_id, read_json, respond, run
from appliance.lookup.hooks import external_lookup, settings_of

CUSTOMER = r"/customers/{id:\d+}"
IDENTIFY_QUERY = Schema("identify", (Field("phone", max_length=40), Field("email", max_length=254),
                                     Field("number", max_length=64)))


@api("GET", "/customers/identify", "Identify a customer by number, phone, e-mail, then the external hook",
     "customers", query=("phone", "email", "number"))
async def identify(request: web.Request) -> web.Response:
    """The one identification function every channel uses (D3, B2)."""
    try:
        probe = ident.Probe(**IDENTIFY_QUERY.validate(dict(request.query)))
    except ValidationError as exc:
        raise json_error(400, "validation", "some fields are wrong", exc.fields) from None

    def settings(scope):
        scope.require(Perm.CUSTOMERS_READ)
        if scope.actor.tenant_id is None:
            raise ValidationError({"tenant": "identification needs a tenant's user"})
        t = Tenant.get_by_id(scope.actor.tenant_id)
        return t.region, settings_of(t)

    region, hook = await run(request, settings)

    async def local(kind: str, value: str) -> list[int]:
        return await run(request, customers.local_lookup, kind, value)

    result = await ident.identify(probe, region, local, external_lookup(hook), hook.timeout_s)
    items = [await run(request, customers.CustomerResource().get, cid) for cid in result.customer_ids]
    return respond({"customers": items, "via": result.via, "ambiguous": result.ambiguous,
                    "external_error": result.external_error, "external": result.external_record,
                    "external_hook": hook.kind, "invalid": result.invalid})


@api("GET", CUSTOMER + "/history", "Every contact with the customer, all channels (D1)", "customers",
     query=("limit", "cursor"), paged=True)
async def history(request: web.Request) -> web.Response:
    """Messages of the customer's tickets as far as the role may see."""
    return respond(await run(request, customers.history, object_id(request), dict(request.query)))


@api("GET", CUSTOMER + "/activities", "Notes, tasks and appointments (D12)", "customers",
     query=("limit", "cursor", "kind"), paged=True)
async def list_activities(request: web.Request) -> web.Response:
    """List."""
    return respond(await run(request, customers.list_activities, object_id(request), dict(request.query)))


@api("POST", CUSTOMER + "/activities", "Add a note, task or appointment", "customers", customers.ACTIVITY_SCHEMA)
async def add_activity(request: web.Request) -> web.Response:
    """Add."""
    return respond(await run(request, customers.add_activity, object_id(request), await read_json(request)), 201)


@api("PATCH", CUSTOMER + r"/activities/{activity_id:\d+}", "Change a note, task or appointment", "customers",
     customers.ACTIVITY_UPDATE)
async def update_activity(request: web.Request) -> web.Response:
    """Change."""
    return respond(await run(request, customers.update_activity, object_id(request),
                             object_id(request, "activity_id"), await read_json(request)))
