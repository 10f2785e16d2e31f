"""The machine-readable description of the API (OpenAPI 3.0), built from the registered operations."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from appliance.webui.api.base import API, OPERATIONS, api, respond

ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                          "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}


def document(version: str = "0.1.0") -> dict[str, Any]:
    """The OpenAPI document."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", op.path)
        params = [{"name": m.group(1), "in": "path", "required": True, "schema": _path_schema(m.group(2))}
                  for m in re.finditer(r"\{(\w+)(?::([^}]+))?\}", op.path)]
        params += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in op.query]
        entry: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "parameters": params,
                                 "responses": {"200": {"description": "OK"},
                                               "400": {"description": "Bad input; `fields` names each bad field",
                                                       "content": {"application/json": {"schema": ERROR}}},
                                               "401": {"description": "No or bad token"},
                                               "403": {"description": "Not allowed"},
                                               "404": {"description": "Not found in your tenant"}}}
        if op.paged:
            entry["responses"]["200"]["content"] = {"application/json": {"schema": {
                "type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}},
                                                 "next": {"type": "string", "nullable": True}}}}}
        if op.body is not None:
            entry["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": op.body.openapi()}}}
        if op.upload:
            fields = {"file": {"type": "string", "format": "binary"}}
            entry["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": fields, "required": ["file"]}}}}
            entry["responses"]["413"] = {"description": "The file is too large",
                                         "content": {"application/json": {"schema": ERROR}}}
        if op.public:
            entry["security"] = []
        methods = paths.setdefault(API + path, {})
        if op.method.lower() in methods:
            entry = _merged(methods[op.method.lower()], entry)
        methods[op.method.lower()] = entry
    return {"openapi": "3.0.3",
            "info": {"title": "Contact-center appliance API", "version": version},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}], "paths": paths}


def _path_schema(pattern: str | None) -> dict[str, Any]:
    """A path parameter's schema from its route pattern: digits, a choice of words, or any text."""
    if pattern == r"\d+":
        return {"type": "integer"}
    if pattern and re.fullmatch(r"[\w-]+(\|[\w-]+)*", pattern):
        return {"type": "string", "enum": pattern.split("|")}
    return {"type": "string"}


def _merged(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two routes with one OpenAPI path (`{action}` with different word lists): one operation, the words joined."""
    out = {**first, "summary": f"{first['summary']}; {second['summary']}"}
    extra = {p["name"]: p for p in second["parameters"]}
    params = []
    for p in first["parameters"]:
        other = extra.get(p["name"], {}).get("schema", {})
        if "enum" in p["schema"] and "enum" in other:
            p = {**p, "schema": {**p["schema"], "enum": p["schema"]["enum"] + [
                v for v in other["enum"] if v not in p["schema"]["enum"]]}}
        params.append(p)
    out["parameters"] = params
    return out


@api("GET", "/openapi.json", "This description", "meta", public=True)
async def openapi(request: web.Request) -> web.Response:
    """Served without login: it describes, it reveals no data."""
    return respond(document())
