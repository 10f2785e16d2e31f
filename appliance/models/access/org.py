"""Organisation resources: tenants, users, profiles, teams, skills, mailboxes, categories, SLA policies,
the staff directory."""
from __future__ import annotations

import json
import os
from typing import Any, Mapping

import peewee

from appliance.domain import hierarchy, identifiers, sla, worknext
from appliance.domain.errors import Forbidden, ValidationError
from appliance.domain.permissions import ROLE_NAMES, Perm, unknown_rights
from appliance.domain.schema import Field, Schema
from appliance.lookup import sql as lookup_sql
from appliance.models import database_proxy
from appliance.models import (Category, Mailbox, Profile, ServiceAddress, Skill, SlaPolicy, StaffEntry, Team,
                              TeamMember, Tenant, User, UserSkill)
from appliance.models.access.resource import Resource
from appliance.models.access.scope import Scope
from appliance.security.passwords import generate_password, hash_password, password_problem

TENANT_ID = Field("tenant_id", "id", help="only the system admin passes it; others create in their own tenant")
NAME = Field("name", required=True, max_length=100)
ACTIVE = Field("active", "bool")
PARENT = Field("parent_id", "id", nullable=True)


def _schemas(name: str, *fields: Field) -> tuple[Schema, Schema]:
    create = Schema(name, fields)
    update = Schema(name + "_update", tuple(f for f in fields if f.name != "tenant_id"))
    return create, update


def _check_timezone(tz: str) -> str | None:
    try:
        sla.parse_calendar({}, tz)
    except ValidationError:
        return "is not a known time zone"
    return None


class TenantResource(Resource):
    """Tenants: the system admin manages them; a tenant's users see only their own."""

    name, model = "tenants", Tenant
    create_schema, update_schema = _schemas(
        "tenant", Field("name", required=True, max_length=150), Field("region", max_length=2),
        Field("timezone", max_length=64, check=_check_timezone), Field("lookup_url", max_length=500),
        Field("lookup_timeout_ms", "int", minimum=50, maximum=30000),
        Field("lookup_sql_dsn", max_length=500, help="SQL hook instead of the URL: sqlite:////path or postgresql://…"),
        Field("lookup_sql_query", max_length=lookup_sql.MAX_QUERY_CHARS,
              help="one SELECT; parameters :number (phone, E.164), :email, :customer_no"),
        Field("lookup_sql_map", "object", help='result column → customer field, e.g. {"kdnr": "number"}'), ACTIVE)
    write_perm = Perm.TENANTS_WRITE

    def to_json(self, scope: Scope, obj: Any) -> dict[str, Any]:
        out = super().to_json(scope, obj)
        out["lookup_sql_dsn"] = lookup_sql.mask_dsn(obj.lookup_sql_dsn or "")  # the password stays in the box
        out["lookup_sql_map"] = json.loads(obj.lookup_sql_map or "{}")
        return out

    def create(self, scope: Scope, raw: Any, from_form: bool = False) -> dict[str, Any]:
        """A new tenant (system admin only)."""
        scope.require(self.write_perm)
        data = self.create_schema.validate(raw, from_form=from_form)
        self._check(data, None)
        if Tenant.select().where(Tenant.name == data["name"]).exists():
            raise ValidationError({"name": f"{data['name']!r} is already taken"})
        obj = Tenant.create(**data)
        scope.audit("create", obj, detail=data)
        return self.to_json(scope, obj)

    def update(self, scope: Scope, obj_id: int, raw: Any, from_form: bool = False) -> dict[str, Any]:
        """Change a tenant (system admin only)."""
        scope.require(self.write_perm)
        obj = scope.get(Tenant, obj_id)
        data = self.update_schema.validate(raw, partial=True, from_form=from_form)
        if data.get("lookup_sql_dsn") and data["lookup_sql_dsn"] == lookup_sql.mask_dsn(obj.lookup_sql_dsn):
            del data["lookup_sql_dsn"]  # the masked form shown back unchanged: keep the stored password
        self._check(data, obj)
        if "name" in data and Tenant.select().where((Tenant.name == data["name"]) & (Tenant.id != obj.id)).exists():
            raise ValidationError({"name": f"{data['name']!r} is already taken"})
        if data:
            Tenant.update(**data).where(Tenant.id == obj.id).execute()
        obj = Tenant.get_by_id(obj.id)
        scope.audit("update", obj, detail=data)
        return self.to_json(scope, obj)

    @staticmethod
    def _check(data: dict[str, Any], obj: Tenant | None) -> None:
        """Normalise and check in place; the SQL hook's parts are checked together."""
        errors = {}
        if data.get("lookup_sql_dsn"):
            errors["lookup_sql_dsn"] = lookup_sql.dsn_problem(data["lookup_sql_dsn"]) or _own_database(
                data["lookup_sql_dsn"])
        if data.get("lookup_sql_query"):
            errors["lookup_sql_query"] = lookup_sql.query_problem(data["lookup_sql_query"])
        if "lookup_sql_map" in data:
            errors["lookup_sql_map"] = lookup_sql.columns_problem(data["lookup_sql_map"])
            data["lookup_sql_map"] = json.dumps(data["lookup_sql_map"] or {})
        dsn = data.get("lookup_sql_dsn", obj.lookup_sql_dsn if obj else "")
        query = data.get("lookup_sql_query", obj.lookup_sql_query if obj else "")
        if dsn and not query and not errors.get("lookup_sql_dsn"):
            errors["lookup_sql_query"] = "the SQL hook needs a query"
        errors = {k: v for k, v in errors.items() if v}
        if errors:
            raise ValidationError(errors)
        if data.get("region"):
            data["region"] = data["region"].upper()
            if not data["region"].isalpha() or len(data["region"]) != 2:
                raise ValidationError({"region": "must be a two-letter country code"})
        url = data.get("lookup_url")
        if url and not url.startswith(("http://", "https://")):
            raise ValidationError({"lookup_url": "must be an http(s) URL"})


def _own_database(dsn: str) -> str | None:
    """The hook must not read the appliance's own database: it would see every tenant's rows."""
    db = database_proxy.obj
    if dsn.startswith(lookup_sql.SQLITE_PREFIX) and isinstance(db, peewee.SqliteDatabase):
        same = os.path.realpath(dsn[len(lookup_sql.SQLITE_PREFIX):]) == os.path.realpath(db.database)
    elif dsn.startswith(lookup_sql.PG_PREFIXES) and isinstance(db, peewee.PostgresqlDatabase):
        same = lookup_sql.same_server_database(dsn, db.database)
    else:
        same = False
    return "is the appliance's own database" if same else None


class UserResource(Resource):
    """Users of a tenant with role, profile, skills (with levels) and teams."""

    name, model = "users", User
    create_schema, update_schema = _schemas(
        "user", Field("username", required=True, max_length=150), Field("display_name"),
        Field("password", max_length=200, help="omit to get a one-time password back"),
        Field("role", choices=ROLE_NAMES), TENANT_ID, Field("profile_id", "id", nullable=True),
        Field("email", max_length=254), Field("phone", max_length=40), Field("department", max_length=100),
        Field("language", max_length=16), ACTIVE, Field("must_change_password", "bool"),
        Field("skills", "object", help='{"<skill id>": level 1-5}'), Field("team_ids", "ids"))
    write_perm = Perm.USERS_WRITE
    search = ("username", "display_name", "email")
    filters = ("role", "active", "department")
    unique = ()

    def to_json(self, scope: Scope, obj: peewee.Model) -> dict[str, Any]:
        out = super().to_json(scope, obj)
        for key in ("failed_logins", "locked_until"):
            out.pop(key, None)
        out["skills"] = {str(s.skill_id): s.level for s in UserSkill.select().where(UserSkill.user == obj.id)}
        out["team_ids"] = sorted(m.team_id for m in TeamMember.select().where(TeamMember.user == obj.id))
        return out

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        data = dict(data)
        if data.get("role") == "admin" and scope.actor.role != "admin":
            raise Forbidden("only an admin may make admins")
        if obj is not None and obj.id == scope.actor.user_id and data.get("active") is False:
            raise ValidationError({"active": "you cannot disable yourself"})
        name = data.get("username")
        if name is not None:
            q = User.select().where(User.username == name)
            if obj is not None:
                q = q.where(User.id != obj.id)
            if q.exists():
                raise ValidationError({"username": f"{name!r} is already taken"})
        if data.get("email"):
            try:
                data["email"] = identifiers.normalise_email(data["email"])
            except ValueError as exc:
                raise ValidationError({"email": str(exc)}) from None
        if data.get("phone"):
            data["phone"] = _phone(data["phone"], tenant_id, "phone")
        password = data.pop("password", None)
        data.pop("skills", None), data.pop("team_ids", None)
        out = super().values(scope, data, obj, tenant_id)
        if password is not None:
            problem = password_problem(password, name or (obj.username if obj else ""))
            if problem:
                raise ValidationError({"password": "needs " + problem if problem.startswith("at least")
                                       else problem})
            out["password_hash"] = hash_password(password)
        elif obj is None:
            scope._cache["one_time_password"] = generate_password()
            out["password_hash"] = hash_password(scope._cache["one_time_password"])
            out["must_change_password"] = True
        return out

    def create(self, scope: Scope, raw: Any, from_form: bool = False) -> dict[str, Any]:
        scope._cache.pop("one_time_password", None)
        out = super().create(scope, raw, from_form)
        if scope._cache.get("one_time_password"):
            out["one_time_password"] = scope._cache.pop("one_time_password")
        return out

    def after_save(self, scope: Scope, obj: Any, data: dict[str, Any], created: bool) -> None:
        if "skills" in data:
            levels: dict[int, int] = {}
            for key, level in data["skills"].items():
                if not str(key).isdigit() or isinstance(level, bool) or not isinstance(level, int) \
                        or not 1 <= level <= 5:
                    raise ValidationError({f"skills.{str(key)[:20]}": "must map a skill id to a level 1-5"})
                scope.ref(Skill, int(key), f"skills.{key}", obj.tenant_id)
                levels[int(key)] = level
            UserSkill.delete().where(UserSkill.user == obj.id).execute()
            for skill_id, level in levels.items():
                UserSkill.create(tenant=obj.tenant_id, user=obj.id, skill=skill_id, level=level)
        if "team_ids" in data:
            for i, team_id in enumerate(data["team_ids"]):
                scope.ref(Team, team_id, f"team_ids[{i}]", obj.tenant_id)
            TeamMember.delete().where(TeamMember.user == obj.id).execute()
            for team_id in data["team_ids"]:
                TeamMember.create(tenant=obj.tenant_id, team=team_id, user=obj.id)


class ProfileResource(Resource):
    """Rights profiles; a child profile never exceeds its parent (F4)."""

    name, model = "profiles", Profile
    create_schema, update_schema = _schemas("profile", NAME, TENANT_ID, PARENT,
                                            Field("rights", max_length=2000, help="comma-separated permissions"),
                                            ACTIVE)
    hierarchical = True

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        bad = unknown_rights(data.get("rights", ""))
        if bad:
            raise ValidationError({"rights": "unknown permission(s): " + ", ".join(bad)[:200]})
        return super().values(scope, data, obj, tenant_id)


class TeamResource(Resource):
    """Hierarchical and functional teams with per-team settings and members (F2, F3)."""

    name, model = "teams", Team
    create_schema, update_schema = _schemas(
        "team", NAME, TENANT_ID, PARENT, Field("kind", choices=("hierarchical", "functional")),
        Field("settings", "object", help='text blocks, forwards …; next work: {"mailbox_ids": [1, 2], '
                                         '"max_open_tickets": 5}'), ACTIVE, Field("member_ids", "ids"))
    hierarchical = True
    filters = ("kind", "active")

    def to_json(self, scope: Scope, obj: Any) -> dict[str, Any]:
        out = super().to_json(scope, obj)
        out["member_ids"] = sorted(m.user_id for m in TeamMember.select().where(TeamMember.team == obj.id))
        return out

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        if "settings" in data:
            # The work-queue limits (F3): the universal queue trusts them, so they are checked here.
            settings = data["settings"]
            problems = {f"settings.{k}": v for k, v in worknext.settings_problems(settings).items()}
            if problems:
                raise ValidationError(problems)
            for i, box in enumerate(settings.get("mailbox_ids") or ()):
                scope.ref(Mailbox, box, f"settings.mailbox_ids[{i}]", tenant_id)
        return super().values(scope, {k: v for k, v in data.items() if k != "member_ids"}, obj, tenant_id)

    def after_save(self, scope: Scope, obj: Any, data: dict[str, Any], created: bool) -> None:
        if "member_ids" in data:
            for i, uid in enumerate(data["member_ids"]):
                scope.ref_user(uid, f"member_ids[{i}]", obj.tenant_id)
            TeamMember.delete().where(TeamMember.team == obj.id).execute()
            for uid in data["member_ids"]:
                TeamMember.create(tenant=obj.tenant_id, team=obj.id, user=uid)


class SkillResource(Resource):
    """Skills and language skills (F6, F14)."""

    name, model = "skills", Skill
    create_schema, update_schema = _schemas(
        "skill", NAME, TENANT_ID, Field("kind", choices=("skill", "language")),
        Field("code", max_length=16, help="ISO 639-1 code of a language skill"), ACTIVE)
    filters = ("kind", "active")

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        kind = data.get("kind", obj.kind if obj else "skill")
        code = data.get("code", obj.code if obj else "")
        if kind == "language" and not (2 <= len(code) <= 3 and code.isalpha()):
            raise ValidationError({"code": "a language skill needs its ISO 639 code (e.g. de)"})
        if "code" in data:
            data = {**data, "code": data["code"].lower()}
        return super().values(scope, data, obj, tenant_id)


def _phone(raw: str, tenant_id: int, field_name: str) -> str:
    region = Tenant.get_by_id(tenant_id).region if tenant_id else "DE"
    try:
        return identifiers.normalise_phone(raw, region)
    except ValueError as exc:
        raise ValidationError({field_name: str(exc)}) from None


def parse_service_address(raw: str, region: str) -> tuple[str, str]:
    """`kind:value` or a bare address: an e-mail address, or a phone number (kind phone)."""
    kind, _, value = raw.partition(":") if raw.split(":", 1)[0] in ("email", "phone", "fax", "sms") \
        else ("email" if "@" in raw else "phone", "", raw)
    if kind == "email":
        return kind, identifiers.normalise_email(value)
    return kind, identifiers.normalise_phone(value, region)


class MailboxResource(Resource):
    """Hierarchical mailboxes with inherited settings (F5), serving addresses and numbers (C3, B7)."""

    name, model = "mailboxes", Mailbox
    create_schema, update_schema = _schemas(
        "mailbox", NAME, TENANT_ID, PARENT, Field("settings", "object"), ACTIVE,
        Field("addresses", "list", max_length=254,
              help="service addresses: e-mail, phone number, or kind:value with kind email/phone/fax/sms"))
    hierarchical = True

    def to_json(self, scope: Scope, obj: Any) -> dict[str, Any]:
        out = super().to_json(scope, obj)
        out["addresses"] = [f"{a.kind}:{a.value}" for a in
                            ServiceAddress.select().where(ServiceAddress.mailbox == obj.id).order_by(ServiceAddress.id)]
        chain, seen, current = [], set(), obj
        while current is not None and current.id not in seen:
            seen.add(current.id)
            chain.append(json.loads(current.settings or "{}"))
            current = Mailbox.get_or_none(Mailbox.id == current.parent_id) if current.parent_id else None
        out["effective_settings"] = hierarchy.inherited_settings(chain)
        return out

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        return super().values(scope, {k: v for k, v in data.items() if k != "addresses"}, obj, tenant_id)

    def after_save(self, scope: Scope, obj: Any, data: dict[str, Any], created: bool) -> None:
        if "addresses" not in data:
            return
        region = Tenant.get_by_id(obj.tenant_id).region
        parsed: list[tuple[str, str]] = []
        for i, raw in enumerate(data["addresses"]):
            try:
                pair = parse_service_address(raw, region)
            except ValueError as exc:
                raise ValidationError({f"addresses[{i}]": str(exc)}) from None
            clash = ServiceAddress.get_or_none((ServiceAddress.kind == pair[0]) & (ServiceAddress.value == pair[1])
                                               & (ServiceAddress.mailbox != obj.id))
            if pair in parsed:
                raise ValidationError({f"addresses[{i}]": f"{pair[1]} is listed twice"})
            if clash is not None:
                raise ValidationError({f"addresses[{i}]": f"{pair[1]} is already served by a mailbox"})
            parsed.append(pair)
        ServiceAddress.delete().where(ServiceAddress.mailbox == obj.id).execute()
        for kind, value in parsed:
            ServiceAddress.create(tenant=obj.tenant_id, mailbox=obj.id, kind=kind, value=value)


class CategoryResource(Resource):
    """Categories up to ten levels deep (G4)."""

    name, model = "categories", Category
    create_schema, update_schema = _schemas("category", NAME, TENANT_ID, PARENT, ACTIVE)
    hierarchical = True
    max_depth = hierarchy.MAX_CATEGORY_DEPTH
    unique = ()
    filters = ("parent_id", "depth", "active")

    def after_save(self, scope: Scope, obj: Any, data: dict[str, Any], created: bool) -> None:
        if created or "parent_id" not in data:
            return
        # A moved category takes its subtree along: recompute the levels below it.
        frontier, depth = [obj.id], obj.depth
        while frontier:
            depth += 1
            children = [c.id for c in Category.select(Category.id).where(Category.parent.in_(frontier))]
            if children:
                Category.update(depth=depth).where(Category.id.in_(children)).execute()
            frontier = children

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        out = super().values(scope, data, obj, tenant_id)
        parent = out.get("parent", obj.parent_id if obj else None)
        name = out.get("name", obj.name if obj else None)
        q = Category.select().where((Category.tenant == tenant_id) & (Category.name == name)
                                    & (Category.parent.is_null() if parent is None else Category.parent == parent))
        if obj is not None:
            q = q.where(Category.id != obj.id)
        if ("name" in out or "parent" in out) and q.exists():
            raise ValidationError({"name": f"{name!r} already exists at this level"})
        if obj is None and "parent" not in out:
            out["parent"] = None  # so the depth check runs for roots too
        return out


class SlaResource(Resource):
    """SLA policies: targets in business minutes over a calendar, escalation steps (F8)."""

    name, model = "sla-policies", SlaPolicy
    create_schema, update_schema = _schemas(
        "sla_policy", NAME, TENANT_ID, Field("response_minutes", "int", minimum=1, maximum=sla.MAX_SLA_MINUTES),
        Field("resolve_minutes", "int", minimum=1, maximum=sla.MAX_SLA_MINUTES),
        Field("calendar", "object", help='{"hours": {"mon": ["08:00","18:00"]}, "holidays": ["2025-12-25"]}'),
        Field("escalations", "any", help='[{"at_percent": 80, "action": "notify_lead"}]'), ACTIVE)

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        tz = Tenant.get_by_id(tenant_id).timezone
        if "calendar" in data:
            sla.parse_calendar(data["calendar"], tz)
        if "escalations" in data:
            sla.parse_escalations(data["escalations"])
        return super().values(scope, data, obj, tenant_id)


class StaffResource(Resource):
    """The staff directory: departments and people (D7)."""

    name, model = "staff", StaffEntry
    create_schema, update_schema = _schemas(
        "staff_entry", Field("name", required=True, max_length=200), TENANT_ID,
        Field("department", max_length=100), Field("title", max_length=100), Field("phone", max_length=40),
        Field("email", max_length=254), Field("user_id", "id", nullable=True), ACTIVE)
    search = ("name", "department", "title", "email")
    filters = ("department",)
    unique = ()

    def values(self, scope: Scope, data: dict[str, Any], obj: Any, tenant_id: int) -> dict[str, Any]:
        data = dict(data)
        if data.get("phone"):
            data["phone"] = _phone(data["phone"], tenant_id, "phone")
        if data.get("email"):
            try:
                data["email"] = identifiers.normalise_email(data["email"])
            except ValueError as exc:
                raise ValidationError({"email": str(exc)}) from None
        return super().values(scope, data, obj, tenant_id)


def tenant_region(tenant_id: int) -> str:
    """The default phone region of a tenant."""
    return Tenant.get_by_id(tenant_id).region


def resources() -> Mapping[str, Resource]:
    """The organisation resources by URL name."""
    return {r.name: r for r in (TenantResource(), UserResource(), ProfileResource(), TeamResource(),
                                SkillResource(), MailboxResource(), CategoryResource(), SlaResource(),
                                StaffResource())}
