"""Plumbing of the REST API: route registration with OpenAPI metadata, JSON bodies, the scoped
accessor per request, and the mapping of domain errors to JSON answers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

import peewee
from aiohttp import web

from appliance.bus import Event, EventKind
from appliance.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from appliance.domain.schema import Schema
from appliance.models.access import Page, Scope, load_actor
from appliance.webui.keys import BUS, DB, USER
from appliance.webui.security import TOKEN_SCOPES

API = "/api/v1"
MAX_JSON_BYTES = 4 * 1024 * 1024
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
routes = web.RouteTableDef()


@dataclass(frozen=True)
class Operation:
    """One API operation as the OpenAPI description shows it."""

    method: str
    path: str
    summary: str
    tag: str
    body: Schema | None = None
    query: tuple[str, ...] = ()
    paged: bool = False
    public: bool = False
    upload: bool = False  # a multipart/form-data body with a `file` part


OPERATIONS: list[Operation] = []


def api(method: str, path: str, summary: str, tag: str, body: Schema | None = None,
        query: tuple[str, ...] = (), paged: bool = False, public: bool = False, upload: bool = False,
        table: web.RouteTableDef | None = None) -> Callable[[Handler], Handler]:
    """Register a handler under /api/v1 and describe it for the OpenAPI document.

    `table`: the route table of another area (ACD, mail, fax …) that registers its own routes; the operation
    is described all the same, so the OpenAPI document and the tenant-isolation walk see every route.
    """
    def register(handler: Handler) -> Handler:
        OPERATIONS.append(Operation(method, path, summary, tag, body, query, paged, public, upload))
        (routes if table is None else table).route(method, API + path)(handler)
        return handler
    return register


def json_error(status: int, error: str, message: str = "", fields: dict[str, str] | None = None) -> web.HTTPError:
    """An HTTP error with a JSON body `{"error", "message", "fields"}`."""
    body: dict[str, Any] = {"error": error}
    if message:
        body["message"] = message
    if fields is not None:
        body["fields"] = fields
    cls = {400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict,
           413: web.HTTPRequestEntityTooLarge, 401: web.HTTPUnauthorized, 415: web.HTTPUnsupportedMediaType,
           504: web.HTTPGatewayTimeout}[status]
    kwargs: dict[str, Any] = {"text": json.dumps(body), "content_type": "application/json"}
    if status == 413:
        return web.HTTPRequestEntityTooLarge(MAX_JSON_BYTES, 0, **kwargs)
    return cls(**kwargs)


async def read_body(request: web.Request, limit: int = MAX_JSON_BYTES) -> bytes:
    """The whole request body, at most `limit` bytes; 413 when it is longer."""
    if request.content_length is not None and request.content_length > limit:
        raise json_error(413, "too_large", f"the body exceeds {limit} bytes")
    # StreamReader.read(n) answers with what has arrived so far, which for a large body is only its start.
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise json_error(413, "too_large", f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: web.Request) -> Any:
    """The request body as JSON; 400 naming `body` when it is not, 413 when it is too large."""
    raw = await read_body(request)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise json_error(400, "malformed_json", fields={"body": f"is not valid JSON: {exc}"[:300]}) from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is `{}`); 400 naming `body` for anything else."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise json_error(400, "malformed_json", fields={"body": "must be a JSON object"})
    return data


async def run(request: web.Request, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn(scope, *args)` in one database transaction; domain errors become JSON answers."""
    user = request[USER]
    uid, remote, scopes = user.id, request.remote or "", request.get(TOKEN_SCOPES, "*")

    def work() -> T:
        return fn(Scope(load_actor(uid, remote, scopes)), *args)
    try:
        return await request.app[DB].call(work)
    except ValidationError as exc:
        raise json_error(400, "validation", "some fields are wrong", exc.fields) from None
    except NotFound as exc:
        raise json_error(404, "not_found", str(exc)) from None
    except Forbidden as exc:
        raise json_error(403, "forbidden", str(exc)) from None
    except Conflict as exc:
        raise json_error(409, "conflict", str(exc)) from None
    except peewee.IntegrityError:
        # The pre-checks name fields; this is the race they cannot see. Nothing was written.
        raise json_error(400, "validation", "a value clashes with existing data",
                         {"body": "duplicate or dangling reference"}) from None


def respond(data: Any, status: int = 200) -> web.Response:
    """A JSON response; a Page becomes `{"items", "next"}`."""
    if isinstance(data, Page):
        data = {"items": data.items, "next": data.next}
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str))


def object_id(request: web.Request, name: str = "id") -> int:
    """A numeric path parameter (the route's regex guarantees digits)."""
    return int(request.match_info[name])


def publish(request: web.Request, kind: EventKind, tenant_id: int | None, **data: Any) -> None:
    """Tell the rest of the appliance (desk, wallboard) after the transaction committed; `by_user_id` names who
    acted, so their own desk shows no notice of their own doing."""
    request.app[BUS].publish(Event(kind, {**data, "by_user_id": request[USER].id}, tenant_id))
