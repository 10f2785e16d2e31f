"""Roles and what each may see and do (F1), narrowed by hierarchical profiles (F4)."""
from __future__ import annotations

import enum
from typing import Iterable


class Role(str, enum.Enum):
    """The roles a user can have."""

    AGENT = "agent"
    TEAM_LEAD = "team_lead"
    SUPERVISOR = "supervisor"
    IT = "it"
    CONTROLLING = "controlling"
    ADMIN = "admin"


class Perm(str, enum.Enum):
    """A single permission. `history.*` and `monitor.*` say how far a role looks (F1)."""

    ORG_READ = "org.read"
    ORG_WRITE = "org.write"
    USERS_WRITE = "users.write"
    TENANTS_WRITE = "tenants.write"
    TOKENS_WRITE = "tokens.write"
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_WRITE = "customers.write"
    TICKETS_READ = "tickets.read"
    TICKETS_WRITE = "tickets.write"
    TICKETS_DELETE = "tickets.delete"
    TICKETS_ASSIGN = "tickets.assign"
    HISTORY_OWN = "history.own"
    HISTORY_TEAM = "history.team"
    HISTORY_ALL = "history.all"
    MONITOR_TEAM = "monitor.team"
    MONITOR_ALL = "monitor.all"
    REPORTS = "reports.read"
    AUDIT = "audit.read"
    TRANSFER = "data.transfer"


_WORK = {Perm.ORG_READ, Perm.CUSTOMERS_READ, Perm.CUSTOMERS_WRITE, Perm.TICKETS_READ, Perm.TICKETS_WRITE,
         Perm.HISTORY_OWN}
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.AGENT: frozenset(_WORK),
    Role.TEAM_LEAD: frozenset(_WORK | {Perm.TICKETS_ASSIGN, Perm.TICKETS_DELETE, Perm.HISTORY_TEAM,
                                       Perm.MONITOR_TEAM}),
    Role.SUPERVISOR: frozenset(_WORK | {Perm.TICKETS_ASSIGN, Perm.TICKETS_DELETE, Perm.HISTORY_TEAM,
                                        Perm.HISTORY_ALL, Perm.MONITOR_TEAM, Perm.MONITOR_ALL, Perm.REPORTS}),
    # IT runs the organisation and the interfaces, not customer work.
    Role.IT: frozenset({Perm.ORG_READ, Perm.ORG_WRITE, Perm.USERS_WRITE, Perm.TOKENS_WRITE, Perm.MONITOR_ALL,
                        Perm.AUDIT, Perm.TRANSFER, Perm.TICKETS_READ}),
    # Controlling reads figures and history across the tenant but changes nothing.
    Role.CONTROLLING: frozenset({Perm.ORG_READ, Perm.TICKETS_READ, Perm.CUSTOMERS_READ, Perm.HISTORY_ALL,
                                 Perm.MONITOR_ALL, Perm.REPORTS}),
    Role.ADMIN: frozenset(set(Perm) - {Perm.TENANTS_WRITE}),
}
ROLE_NAMES = tuple(r.value for r in Role)


def role_permissions(role: str, system_admin: bool = False) -> frozenset[Perm]:
    """What a role may do; the system admin (admin without a tenant) may also manage tenants."""
    try:
        perms = ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
    return perms | {Perm.TENANTS_WRITE} if system_admin and role == Role.ADMIN.value else perms


def parse_rights(text: str) -> frozenset[Perm]:
    """A profile's comma-separated rights; unknown names are dropped (validated when saved)."""
    names = {p.strip() for p in text.split(",") if p.strip()}
    return frozenset(p for p in Perm if p.value in names)


def unknown_rights(text: str) -> list[str]:
    """Names in a rights text that are not permissions."""
    valid = {p.value for p in Perm}
    return sorted({p.strip() for p in text.split(",") if p.strip()} - valid)


def profile_rights(chain: Iterable[str]) -> frozenset[Perm] | None:
    """Effective rights of a profile given its own rights then each ancestor's (F4: set from above).

    A profile never grants more than its parent: the result is the intersection along the chain.
    None means no profile, hence no narrowing.
    """
    result: frozenset[Perm] | None = None
    for rights in chain:
        own = parse_rights(rights)
        result = own if result is None else result & own
    return result


def effective_permissions(role: str, system_admin: bool, chain: Iterable[str] | None) -> frozenset[Perm]:
    """The role's permissions narrowed by the profile chain, if any."""
    perms = role_permissions(role, system_admin)
    narrowed = profile_rights(chain or [])
    return perms if narrowed is None else perms & narrowed
