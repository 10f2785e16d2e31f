"""A resource: one model's list/get/create/update through a Scope, shared by the REST API and the
admin console so both validate the same way and neither can skip the tenant filter."""
from __future__ import annotations

import datetime
import json
from typing import Any, Mapping

import peewee

from appliance.domain import hierarchy
from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm
from appliance.domain.schema import Schema
from appliance.models.access.scope import Page, Scope

JSON_TEXT_FIELDS = ("settings", "calendar", "escalations")
HIDDEN_FIELDS = ("password_hash", "token_hash")
MAX_JSON_CHARS = 20000


def to_jsonable(value: Any) -> Any:
    """A database value as JSON: naive-UTC datetimes get a Z."""
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def dump_json_field(name: str, value: Any) -> str:
    """A dict/list stored in a text column, bounded in size."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_JSON_CHARS:
        raise ValidationError({name: f"must be at most {MAX_JSON_CHARS} characters as JSON"})
    return text


class Resource:
    """Generic CRUD of one tenant-owned model; subclasses add references, hierarchy and side tables."""

    name = ""
    model: type[peewee.Model]
    create_schema: Schema
    update_schema: Schema
    read_perm = Perm.ORG_READ
    write_perm = Perm.ORG_WRITE
    search: tuple[str, ...] = ("name",)
    filters: tuple[str, ...] = ()  # query parameters matched exactly against columns (x_id → x)
    filter_choices: Mapping[str, tuple[str, ...]] = {}  # a filter with known values: anything else is a 400
    unique: tuple[str, ...] = ("name",)  # unique within a tenant
    hierarchical = False
    max_depth: int | None = None

    # --- serialising ---------------------------------------------------------------------------------
    def to_json(self, scope: Scope, obj: peewee.Model) -> dict[str, Any]:
        """The API form of one row."""
        out: dict[str, Any] = {}
        for f in self.model._meta.sorted_fields:
            if f.name in HIDDEN_FIELDS:
                continue
            if isinstance(f, peewee.ForeignKeyField):
                out[f.name + "_id"] = getattr(obj, f.column_name)
            elif f.name in JSON_TEXT_FIELDS:
                out[f.name] = json.loads(getattr(obj, f.name) or "null")
            else:
                out[f.name] = to_jsonable(getattr(obj, f.name))
        return out

    # --- hooks ---------------------------------------------------------------------------------------
    def values(self, scope: Scope, data: dict[str, Any], obj: peewee.Model | None,
               tenant_id: int) -> dict[str, Any]:
        """Model column values from validated data; resolves references inside the tenant."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "tenant_id":
                continue
            if key in JSON_TEXT_FIELDS:
                out[key] = dump_json_field(key, value)
            elif key.endswith("_id") and key[:-3] in self.model._meta.fields:
                fk = self.model._meta.fields[key[:-3]]
                target = fk.rel_model
                if target.__name__ == "User":
                    scope.ref_user(value, key, tenant_id)
                else:
                    scope.ref(target, value, key, tenant_id)
                out[key[:-3]] = value
            elif key in self.model._meta.fields:
                out[key] = value
        return out

    def after_save(self, scope: Scope, obj: peewee.Model, data: dict[str, Any], created: bool) -> None:
        """Write side tables (addresses, members …) after the row itself."""

    def base_query(self, scope: Scope) -> peewee.ModelSelect:
        """The tenant-filtered query lists start from."""
        return scope.query(self.model)

    # --- operations ----------------------------------------------------------------------------------
    def list(self, scope: Scope, params: Mapping[str, str]) -> Page:
        """One page, optionally searched (`q`) and filtered."""
        scope.require(self.read_perm)
        q = self.base_query(scope)
        text = params.get("q", "")
        if len(text) > 200:
            raise ValidationError({"q": "must be at most 200 characters"})
        if text and self.search:
            clause = None
            for name in self.search:
                part = getattr(self.model, name).contains(text)
                clause = part if clause is None else clause | part
            q = q.where(clause)
        for name in self.filters:
            if name in params and params[name] != "":
                column = self.model._meta.fields[name[:-3] if name.endswith("_id") else name]
                raw = params[name]
                if name in self.filter_choices and raw not in self.filter_choices[name]:
                    raise ValidationError({name: "must be one of " + ", ".join(self.filter_choices[name])})
                try:
                    value = int(raw) if isinstance(column, (peewee.IntegerField, peewee.ForeignKeyField)) \
                        and not isinstance(column, peewee.BooleanField) else raw
                    if isinstance(column, peewee.BooleanField):
                        value = raw.lower() in ("1", "true", "yes")
                except ValueError:
                    raise ValidationError({name: "must be an integer"}) from None
                q = q.where(column == value)
        page = scope.page(q, self.model, params.get("limit"), params.get("cursor"))
        page.items = [self.to_json(scope, o) for o in page.items]
        return page

    def get(self, scope: Scope, obj_id: int) -> dict[str, Any]:
        """One row as JSON."""
        scope.require(self.read_perm)
        return self.to_json(scope, scope.get(self.model, obj_id))

    def create(self, scope: Scope, raw: Any, from_form: bool = False) -> dict[str, Any]:
        """Validate and insert; ValidationError names each bad field."""
        scope.require(self.write_perm)
        data = self.create_schema.validate(raw, from_form=from_form)
        tenant_id = scope.tenant_for_create(data.get("tenant_id"))
        values = self.values(scope, data, None, tenant_id)
        self._check_unique(values, None, tenant_id)
        self._check_tree(values, None, tenant_id)
        obj = self.model.create(tenant=tenant_id, **values)
        self.after_save(scope, obj, data, True)
        scope.audit("create", obj, detail=_loggable(data))
        return self.to_json(scope, obj)

    def update(self, scope: Scope, obj_id: int, raw: Any, from_form: bool = False) -> dict[str, Any]:
        """Validate and change the fields given (PATCH semantics)."""
        scope.require(self.write_perm)
        obj = scope.get(self.model, obj_id, for_update=True)
        data = self.update_schema.validate(raw, partial=True, from_form=from_form)
        values = self.values(scope, data, obj, obj.tenant_id)
        self._check_unique(values, obj, obj.tenant_id)
        self._check_tree(values, obj, obj.tenant_id)
        if values:
            self.model.update(**values).where(self.model.id == obj.id).execute()
        obj = self.model.get_by_id(obj.id)
        self.after_save(scope, obj, data, False)
        scope.audit("update", obj, detail=_loggable(data))
        return self.to_json(scope, obj)

    # --- checks --------------------------------------------------------------------------------------
    def _check_unique(self, values: dict[str, Any], obj: peewee.Model | None, tenant_id: int) -> None:
        errors = {}
        for name in self.unique:
            if name not in values or values[name] is None:
                continue
            column = self.model._meta.fields[name]
            q = self.model.select().where((self.model.tenant == tenant_id) & (column == values[name]))
            if obj is not None:
                q = q.where(self.model.id != obj.id)
            if q.exists():
                errors[name] = f"{values[name]!r} is already taken"
        if errors:
            raise ValidationError(errors)

    def _check_tree(self, values: dict[str, Any], obj: peewee.Model | None, tenant_id: int) -> None:
        if not self.hierarchical or "parent" not in values:
            return
        parent_of = dict(self.model.select(self.model.id, self.model.parent)
                         .where(self.model.tenant == tenant_id).tuples())
        new_parent = values["parent"]
        if obj is not None and hierarchy.creates_cycle(obj.id, new_parent, parent_of):
            raise ValidationError({"parent_id": "would make the hierarchy cyclic"})
        if self.max_depth is not None:
            depth = hierarchy.depth_of(new_parent, parent_of)
            below = hierarchy.subtree_height(obj.id, parent_of) - 1 if obj is not None else 0
            if depth + below > self.max_depth:
                raise ValidationError({"parent_id": f"would be deeper than {self.max_depth} levels"})
            values["depth"] = depth


def _loggable(data: dict[str, Any]) -> dict[str, Any]:
    """Audit detail without secrets."""
    return {k: ("***" if "password" in k else v) for k, v in data.items()}
