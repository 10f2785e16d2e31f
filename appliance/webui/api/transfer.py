"""CSV and JSON import/export of customers, users, tickets and their messages (G10).

An import is all or nothing: one transaction, and a bad row names itself (`rows[3].email`).
"""
from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from aiohttp import web

from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Schema
from appliance.models.access import Scope, message_transfer, ticket_import
from appliance.webui.api.base import api, json_error, read_body, read_json, respond, run
from appliance.webui.api.crud import all_resources

KINDS = ("customers", "users", "tickets", "messages")
MAX_ROWS = 10000
MAX_EXPORT = 200_000
COLUMNS = {
    "customers": ("id", "kind", "name", "number", "language", "ownership", "company_id", "phones", "emails",
                  "external_ids", "active"),
    "users": ("id", "username", "display_name", "role", "email", "phone", "department", "language", "active"),
    "tickets": ("id", "subject", "channel", "state", "priority", "customer_id", "team_id", "mailbox_id",
                "category_id", "owner_id", "skill_id", "language", "due_at", "created_at"),
    "messages": message_transfer.COLUMNS,
}


def export_rows(scope: Scope, kind: str) -> list[dict[str, Any]]:
    """Every row the actor may see, in the export's columns."""
    if kind == "messages":
        return message_transfer.export_messages(scope, MAX_EXPORT)
    scope.require(Perm.TRANSFER if kind == "users" else all_resources()[kind].read_perm)
    res, rows, cursor = all_resources()[kind], [], None
    while len(rows) < MAX_EXPORT:
        page = res.list(scope, {"limit": "1000", "cursor": cursor or ""})
        rows += [{c: item.get(c) for c in COLUMNS[kind]} for item in page.items]
        if page.next is None:
            break
        cursor = page.next
    return rows


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def to_csv(kind: str, rows: list[dict[str, Any]]) -> str:
    """The rows as CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS[kind])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in COLUMNS[kind]])
    return out.getvalue()


def from_csv(text: str, schema: Schema) -> list[dict[str, Any]]:
    """Rows of a CSV import as JSON-typed dicts; empty cells are left out, `id` is ignored."""
    fields = schema.by_name()
    rows = []
    for i, record in enumerate(csv.DictReader(io.StringIO(text))):
        row: dict[str, Any] = {}
        for key, cell in record.items():
            if key is None or key == "id" or cell in (None, ""):
                if key is None:
                    raise ValidationError({f"rows[{i}]": "has more cells than the header"})
                continue
            spec = fields.get(key)
            if spec is None:
                row[key] = cell  # the schema names it as unknown
            elif spec.type in ("int", "id"):
                row[key] = int(cell) if cell.strip().lstrip("-").isdigit() else cell
            elif spec.type == "bool":
                row[key] = cell.strip().lower() in ("1", "true", "yes")
            elif spec.type in ("list", "ids"):
                parts = [p.strip() for p in cell.split(";") if p.strip()]
                row[key] = [int(p) if spec.type == "ids" and p.isdigit() else p for p in parts]
            else:
                row[key] = cell
        rows.append(row)
    return rows


def import_rows(scope: Scope, kind: str, rows: Any) -> dict[str, Any]:
    """Create every row or none."""
    scope.require(Perm.TRANSFER if kind in ("users", "messages") else all_resources()[kind].write_perm)
    if not isinstance(rows, list):
        raise ValidationError({"body": "must be a JSON array of objects"})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"body": f"at most {MAX_ROWS} rows per import"})
    res, ids = all_resources().get(kind), []
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            row = {k: v for k, v in row.items() if k != "id"}
        try:
            history: dict[str, Any] = {}
            if kind == "tickets":  # the export's state and created_at come back as they were
                row, history = ticket_import.split_history(row)
            created = message_transfer.import_message(scope, row) if res is None else res.create(scope, row)
            ids.append(created["id"])
            if history and not created.get("duplicate"):  # a repeated key must not rewrite the first ticket
                ticket_import.apply_history(scope, created["id"], history)
        except ValidationError as exc:
            raise ValidationError({f"rows[{i}].{k}": v for k, v in exc.fields.items()}) from None
    return {"created": len(ids), "ids": ids}


def import_schema(kind: str) -> Schema:
    """The fields an import of `kind` takes (for typing CSV cells)."""
    return message_transfer.IMPORT_SCHEMA if kind == "messages" else all_resources()[kind].create_schema


def _kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in KINDS:
        raise json_error(404, "not_found", f"nothing to transfer named {kind}")
    return kind


@api("GET", "/export/{kind}", "Export customers, users, tickets or messages as CSV (format=csv) or JSON", "transfer",
     query=("format",))
async def export(request: web.Request) -> web.StreamResponse:
    """The whole visible set."""
    kind = _kind(request)
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise json_error(400, "validation", fields={"format": "must be json or csv"})
    rows = await run(request, export_rows, kind)
    if fmt == "csv":
        return web.Response(text=to_csv(kind, rows), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
    return respond({"items": rows, "next": None})


@api("POST", "/import/{kind}", "Import customers, users, tickets or messages from CSV (text/csv) or a JSON array; "
     "all or nothing", "transfer")
async def import_(request: web.Request) -> web.Response:
    """Create every row in one transaction."""
    kind = _kind(request)
    if request.content_type == "text/csv":
        raw = await read_body(request)
        try:
            rows = from_csv(raw.decode("utf-8-sig"), import_schema(kind))
        except UnicodeDecodeError:
            raise json_error(400, "validation", fields={"body": "must be UTF-8 CSV"}) from None
        except (ValidationError, csv.Error) as exc:
            fields = exc.fields if isinstance(exc, ValidationError) else {"body": f"bad CSV: {exc}"}
            raise json_error(400, "validation", fields=fields) from None
    else:
        rows = await read_json(request)
    return respond(await run(request, import_rows, kind, rows), 201)


