"""A tenant's external identification hook, HTTP or SQL, as the identification function takes it; every
failure and timeout is logged with the tenant so an administrator can find it."""
from __future__ import annotations

import asyncio
import datetime
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

from appliance.domain.identify import ExternalLookup
from appliance.lookup.http import http_lookup
from appliance.lookup.sql import SqlHook, sql_lookup

log = logging.getLogger(__name__)
# tenant id → (when, what) of the latest failed lookup, shown on the tenant's admin page.
LAST_FAILURE: dict[int, tuple[datetime.datetime, str]] = {}


@dataclass(frozen=True)
class HookSettings:
    """The external lookup of one tenant; the SQL hook is used when a DSN is set, else the URL."""

    tenant_id: int
    url: str = ""
    sql_dsn: str = ""
    sql_query: str = ""
    sql_columns: Mapping[str, str] = field(default_factory=dict)
    timeout_ms: int = 1500

    @property
    def timeout_s(self) -> float:
        """The bound the identification function puts on the hook."""
        return self.timeout_ms / 1000

    @property
    def kind(self) -> str:
        """sql, http or none."""
        return "sql" if self.sql_dsn and self.sql_query else "http" if self.url else "none"


def settings_of(tenant: Any) -> HookSettings:
    """The hook settings of a Tenant row."""
    try:
        columns = json.loads(tenant.lookup_sql_map or "{}")
    except ValueError:
        columns = {}
    return HookSettings(tenant.id, tenant.lookup_url or "", tenant.lookup_sql_dsn or "", tenant.lookup_sql_query or "",
                        columns if isinstance(columns, dict) else {}, tenant.lookup_timeout_ms)


def external_lookup(settings: HookSettings) -> ExternalLookup | None:
    """The tenant's hook with logging around it, or None when none is configured."""
    if settings.kind == "sql":
        inner = sql_lookup(SqlHook(settings.sql_dsn, settings.sql_query, dict(settings.sql_columns)),
                           settings.timeout_s)
    elif settings.kind == "http":
        inner = http_lookup(settings.url)
    else:
        return None

    async def logged(probe: Mapping[str, str]) -> Mapping[str, str] | None:
        try:
            return await inner(probe)
        except asyncio.CancelledError:
            # The identification gave up waiting: the call or message goes on without the hook's answer.
            log.warning("tenant %s: %s lookup timed out after %g s", settings.tenant_id, settings.kind,
                        settings.timeout_s)
            _failed(settings, f"timeout after {settings.timeout_s:g} s")
            raise
        except Exception as exc:  # noqa: BLE001 - logged here, reported to the caller by identify()
            log.warning("tenant %s: %s lookup failed: %s", settings.tenant_id, settings.kind, exc)
            _failed(settings, f"{type(exc).__name__}: {exc}"[:200])
            raise
    return logged


def _failed(settings: HookSettings, what: str) -> None:
    LAST_FAILURE[settings.tenant_id] = (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
                                        f"{settings.kind}: {what}")


def tenant_hook(tenant_id: int) -> tuple[str, HookSettings]:
    """A tenant's phone region and hook settings (synchronous: run it with Database.call)."""
    from appliance.models import Tenant
    tenant = Tenant.get_by_id(tenant_id)
    return tenant.region, settings_of(tenant)
