"""The scoped accessor: the only way the API layer reaches tenant-owned rows (tenant isolation by construction).

A `Scope` is made for one acting user. `query(Model)` always carries `Model.tenant == actor.tenant`
(the system admin, who has no tenant, sees every tenant), `get(Model, id)` answers NotFound for rows
of another tenant exactly as for rows that do not exist, and customer queries add the ownership rule
of D4/H4. API handlers never call `Model.select()` themselves.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

import peewee

from appliance.domain.errors import Forbidden, NotFound, ValidationError
from appliance.domain.permissions import Perm, effective_permissions
from appliance.models import AuditEntry, Customer, Profile, TeamMember, Tenant, User

M = TypeVar("M", bound=peewee.Model)
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Actor:
    """Who acts: user, role, tenant (None: system admin), effective permissions, teams, client address."""

    user_id: int | None
    username: str
    role: str
    tenant_id: int | None
    perms: frozenset[Perm]
    team_ids: frozenset[int] = frozenset()
    remote: str = ""
    scopes: frozenset[str] = frozenset({"*"})

    @property
    def system_admin(self) -> bool:
        """The appliance-wide admin: no tenant, may act in any tenant."""
        return self.tenant_id is None and self.role == "admin"


def load_actor(user_id: int, remote: str = "", scopes: str = "*") -> Actor:
    """The actor for a logged-in user: role and profile chain resolved to permissions, teams loaded."""
    user = User.get_by_id(user_id)
    chain: list[str] = []
    profile_id = user.profile_id
    seen: set[int] = set()
    while profile_id is not None and profile_id not in seen:
        seen.add(profile_id)
        profile = Profile.get_or_none(Profile.id == profile_id)
        if profile is None:
            break
        chain.append(profile.rights)
        profile_id = profile.parent_id
    system_admin = user.tenant_id is None and user.role == "admin"
    perms = effective_permissions(user.role, system_admin, chain or None)
    teams = frozenset(m.team_id for m in TeamMember.select(TeamMember.team).where(TeamMember.user == user.id))
    return Actor(user.id, user.username, user.role, user.tenant_id, perms, teams, remote,
                 frozenset(s.strip() for s in scopes.split(",") if s.strip()))


@dataclass
class Page:
    """One page of a list: the items and the cursor of the next page (None at the end)."""

    items: list[Any]
    next: str | None = None


@dataclass
class Scope:
    """Tenant- and ownership-filtered access to the data for one actor."""

    actor: Actor
    _cache: dict[str, Any] = field(default_factory=dict)

    # --- permissions ---------------------------------------------------------------------------------
    def require(self, perm: Perm) -> None:
        """Raise Forbidden unless the actor holds `perm` (and, for tokens, a matching scope)."""
        if perm not in self.actor.perms:
            raise Forbidden(f"your role does not allow {perm.value}")
        area = perm.value.split(".")[0]
        scopes = self.actor.scopes
        if "*" not in scopes and perm.value not in scopes and f"{area}.*" not in scopes:
            raise Forbidden(f"this API token is not scoped for {perm.value}")

    def can(self, perm: Perm) -> bool:
        """Whether the actor holds `perm`."""
        return perm in self.actor.perms

    # --- tenant filter -------------------------------------------------------------------------------
    def tenant_clause(self, model: type[peewee.Model]) -> peewee.Expression:
        """The filter every query on a tenant-owned model carries."""
        column = model.id if model is Tenant else model.tenant
        if self.actor.tenant_id is None:
            if self.actor.system_admin:
                return peewee.SQL("1 = 1")
            return column.is_null()  # a tenant-less non-admin sees nothing tenant-owned
        return column == self.actor.tenant_id

    def query(self, model: type[M], *columns: Any) -> peewee.ModelSelect:
        """SELECT from a tenant-owned model, restricted to the actor's tenant (and visibility)."""
        q = model.select(*columns).where(self.tenant_clause(model))
        if model is Customer:
            q = q.where(self.customer_visibility())
        return q

    def get(self, model: type[M], obj_id: Any, for_update: bool = False) -> M:
        """One row of the actor's tenant; NotFound for missing and foreign rows alike."""
        if not isinstance(obj_id, int) or isinstance(obj_id, bool) or not 0 < obj_id < 2**62:
            raise NotFound(f"no {model.__name__.lower()} {obj_id}")
        q = self.query(model).where(model.id == obj_id)
        if for_update and not isinstance(model._meta.database.obj, peewee.SqliteDatabase):
            q = q.for_update()
        obj = q.first()
        if obj is None:
            raise NotFound(f"no {model.__name__.lower()} {obj_id}")
        return obj

    def ref(self, model: type[M], obj_id: int | None, field_name: str, tenant_id: int | None) -> M | None:
        """A referenced row that must live in `tenant_id`; ValidationError naming the field otherwise."""
        if obj_id is None:
            return None
        q = model.select().where(model.id == obj_id)
        q = q.where(model.id == tenant_id) if model is Tenant else q.where(model.tenant == tenant_id)
        if model is Customer:
            q = q.where(self.customer_visibility())
        obj = q.first()
        if obj is None:
            raise ValidationError({field_name: f"unknown {model.__name__.lower()} {obj_id}"})
        return obj

    def ref_user(self, user_id: int | None, field_name: str, tenant_id: int | None) -> User | None:
        """A referenced user of `tenant_id`."""
        if user_id is None:
            return None
        user = User.get_or_none((User.id == user_id) & (User.tenant == tenant_id))
        if user is None:
            raise ValidationError({field_name: f"unknown user {user_id}"})
        return user

    def tenant_for_create(self, given: Any) -> int:
        """The tenant a new row belongs to: the actor's own, or for the system admin the one given."""
        if self.actor.tenant_id is not None:
            if given not in (None, self.actor.tenant_id):
                raise ValidationError({"tenant_id": f"unknown tenant {given}"})
            return self.actor.tenant_id
        if given is None:
            raise ValidationError({"tenant_id": "is required (you act for no tenant)"})
        if not self.actor.system_admin or not Tenant.select().where(Tenant.id == given).exists():
            raise ValidationError({"tenant_id": f"unknown tenant {given}"})
        return int(given)

    # --- customers: ownership (D4, H4) ---------------------------------------------------------------
    def customer_visibility(self) -> peewee.Expression:
        """Enterprise customers for all, group ones for the owner team's members, private ones for the owner."""
        clause = (Customer.ownership == "enterprise") | (Customer.owner == self.actor.user_id)
        if self.actor.team_ids:
            clause |= (Customer.ownership == "group") & Customer.owner_team.in_(sorted(self.actor.team_ids))
        return clause

    # --- paging --------------------------------------------------------------------------------------
    def page(self, q: peewee.ModelSelect, model: type[peewee.Model], limit: Any, cursor: Any) -> Page:
        """Keyset paging by id: `cursor` is the last id seen; `limit` at most 1,000."""
        limit = _int_param(limit, "limit", 100, 1, MAX_LIMIT)
        after = _int_param(cursor, "cursor", 0, 0, 2**62)
        rows = list(q.where(model.id > after).order_by(model.id).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, str(rows[-1].id) if more and rows else None)

    # --- audit ---------------------------------------------------------------------------------------
    def audit(self, action: str, obj: peewee.Model | None, tenant_id: int | None = None,
              detail: dict[str, Any] | None = None, object_type: str | None = None) -> None:
        """Record who did what to which object from where, in the caller's transaction."""
        if tenant_id is None and obj is not None:
            tenant_id = obj.id if isinstance(obj, Tenant) else getattr(obj, "tenant_id", None)
        AuditEntry.create(tenant=tenant_id, user=self.actor.user_id, username=self.actor.username,
                          action=action[:64], object_type=(object_type or type(obj).__name__.lower())[:32],
                          object_id=obj.id if obj is not None else None,
                          detail=json.dumps(detail or {}, default=str)[:20000], remote=self.actor.remote[:64])


def limit_param(value: Any) -> int:
    """A list's `limit` parameter: 100 by default, 1 to 1,000."""
    return _int_param(value, "limit", 100, 1, MAX_LIMIT)


def _int_param(value: Any, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: "must be an integer"}) from None
    if not low <= number <= high:
        raise ValidationError({name: f"must be between {low} and {high}"})
    return number
