"""The live MIB view: plain appliance data in, a sorted OID -> SNMP value map out (no I/O).

The agent builds one view per request burst from the supervisor snapshot, the metrics registry
and the hardware rows, so a walk sees one consistent picture and the lookups are a bisect.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from pysnmp.proto import rfc1902

from appliance.snmp import const
from appliance.snmp.const import Oid

GAUGE_MAX = 2**32 - 1
TICKS_MAX = 2**32 - 1


@dataclass(frozen=True)
class SystemInfo:
    """MIB-II system group values (RFC 3418 §2) that do not change while the agent runs."""

    descr: str
    name: str
    contact: str = ""
    location: str = ""


@dataclass
class IndexMap:
    """Row indices that stay put while the agent runs: the first name seen gets 1, and so on."""

    _by_name: dict[str, int] = field(default_factory=dict)

    def index(self, name: str) -> int:
        """The index of `name`, assigning the next free one on first sight."""
        found = self._by_name.get(name)
        if found is None:
            found = self._by_name[name] = len(self._by_name) + 1
        return found


@dataclass
class Indices:
    """One IndexMap per dynamic table."""

    hardware: IndexMap = field(default_factory=IndexMap)
    queues: IndexMap = field(default_factory=IndexMap)
    intake: IndexMap = field(default_factory=IndexMap)


@dataclass(frozen=True)
class Inputs:
    """Everything the view is built from, as plain data."""

    system: SystemInfo
    sys_uptime_s: float
    version: str
    services: list[Mapping[str, Any]]
    metrics: Mapping[str, float]
    hardware: Mapping[str, Mapping[str, Any]]
    disk_low_mb: int
    extra: Iterable[tuple[Oid, Any]] = ()  # engine counters (snmp group, usmStats) as built


class MibView:
    """An immutable, sorted set of (OID, value) with exact and next lookups."""

    def __init__(self, items: Mapping[Oid, Any]) -> None:
        self._values = dict(items)
        self._oids = sorted(self._values)

    def __len__(self) -> int:
        return len(self._oids)

    def get(self, oid: Oid) -> Any | None:
        """The value of exactly `oid`, or None."""
        return self._values.get(oid)

    def next_after(self, oid: Oid) -> tuple[Oid, Any] | None:
        """The first (OID, value) strictly after `oid` in lexicographic order (RFC 3416 §4.2.2)."""
        pos = bisect.bisect_right(self._oids, oid)
        if pos == len(self._oids):
            return None
        found = self._oids[pos]
        return found, self._values[found]

    def has_prefix(self, prefix: Oid) -> bool:
        """True when some object lies under `prefix` (a GET of a missing instance of a known
        object answers noSuchInstance rather than noSuchObject, RFC 3416 §4.2.1)."""
        nxt = self.next_after(prefix)
        return nxt is not None and nxt[0][:len(prefix)] == prefix

    def items(self) -> list[tuple[Oid, Any]]:
        """Every (OID, value), in order."""
        return [(o, self._values[o]) for o in self._oids]


# --- value conversions ---------------------------------------------------------------------
def display(text: object, limit: int = 255) -> rfc1902.OctetString:
    """A DisplayString (RFC 2579 §7: NVT ASCII, at most `limit` octets)."""
    raw = str(text).encode("ascii", "replace")[:limit]
    return rfc1902.OctetString(raw)


def gauge(value: float) -> rfc1902.Gauge32 | None:
    """A Gauge32 clamped to its range (RFC 2578 §7.1.7: it latches, never wraps); None for NaN."""
    if value is None or math.isnan(value):
        return None
    return rfc1902.Gauge32(int(min(max(value, 0), GAUGE_MAX)))


def counter(value: float) -> rfc1902.Counter32 | None:
    """A Counter32, which wraps modulo 2^32 (RFC 2578 §7.1.6); None for NaN."""
    if value is None or math.isnan(value):
        return None
    return rfc1902.Counter32(int(max(value, 0)) % 2**32)


def ticks(seconds: float) -> rfc1902.TimeTicks:
    """TimeTicks: hundredths of a second, clamped."""
    if seconds is None or math.isnan(seconds):
        seconds = 0.0
    return rfc1902.TimeTicks(int(min(max(seconds * 100, 0), TICKS_MAX)))


def date_and_time(unix: float) -> rfc1902.OctetString | None:
    """DateAndTime in UTC, the 11-octet form of RFC 2579 §7; None for a time no calendar has."""
    try:
        t = dt.datetime.fromtimestamp(unix, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    raw = bytes([t.year >> 8, t.year & 0xFF, t.month, t.day, t.hour, t.minute, t.second,
                 t.microsecond // 100000, ord("+"), 0, 0])
    return rfc1902.OctetString(raw)


def split_metric(name: str, prefix: str, fields: tuple[str, ...]) -> tuple[str, str] | None:
    """("sales.de", "waiting") from "queue.sales.de.waiting"; None when not one of ours."""
    if not name.startswith(prefix):
        return None
    row, _, col = name[len(prefix):].rpartition(".")
    if not row or col not in fields:
        return None
    return row, col


def rows_from_metrics(metrics: Mapping[str, float], prefix: str,
                      fields: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Group `prefix<row>.<field>` metrics into rows."""
    rows: dict[str, dict[str, float]] = {}
    for name, value in metrics.items():
        parts = split_metric(name, prefix, fields)
        if parts:
            rows.setdefault(parts[0], {})[parts[1]] = value
    return rows


def queue_rows(metrics: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Queue rows in the MIB's terms, from our names or the ACD bridge's (const.ACD_QUEUE_FIELDS)."""
    rows = rows_from_metrics(metrics, const.QUEUE_PREFIX, const.QUEUE_FIELDS + const.ACD_QUEUE_FIELDS)
    for row in rows.values():
        free, working, logged_in = (row.get(k) for k in const.ACD_QUEUE_FIELDS[:3])
        if free is not None:
            row.setdefault("agents_ready", free)
            if working is not None:
                row.setdefault("agents_busy", working - free)
        if working is not None and logged_in is not None:
            row.setdefault("agents_paused", logged_in - working)
        for fraction, pct in (("service_level", "service_level_pct"),
                              ("service_level_goal", "service_level_target_pct")):
            if fraction in row:
                row.setdefault(pct, row[fraction] * 100)
    return {name: {k: v for k, v in row.items() if k in const.QUEUE_FIELDS} for name, row in rows.items()}


# --- the builder -----------------------------------------------------------------------------
def build_view(inputs: Inputs, indices: Indices) -> MibView:
    """The whole served tree: system group, engine counters and APPLIANCE-MIB."""
    out: dict[Oid, Any] = {}
    _system_group(out, inputs)
    out.update(inputs.extra)
    _app_scalars(out, inputs)
    _services(out, inputs.services)
    _hardware(out, inputs.hardware, indices.hardware)
    _queues(out, inputs.metrics, indices.queues)
    _intake(out, inputs.metrics, indices.intake)
    return MibView({k: v for k, v in out.items() if v is not None})


def _system_group(out: dict[Oid, Any], inputs: Inputs) -> None:
    s, base = inputs.system, const.SYSTEM
    out[base + (const.SYS_DESCR, 0)] = display(s.descr)
    out[base + (const.SYS_OBJECT_ID, 0)] = rfc1902.ObjectIdentifier(const.PRODUCT)
    out[base + (const.SYS_UPTIME, 0)] = ticks(inputs.sys_uptime_s)
    out[base + (const.SYS_CONTACT, 0)] = display(s.contact)
    out[base + (const.SYS_NAME, 0)] = display(s.name)
    out[base + (const.SYS_LOCATION, 0)] = display(s.location)
    out[base + (const.SYS_SERVICES, 0)] = rfc1902.Integer32(const.SYS_SERVICES_VALUE)


def _app_scalars(out: dict[Oid, Any], inputs: Inputs) -> None:
    m, base = inputs.metrics, const.APP_SYSTEM
    nan = float("nan")
    degraded = any(s["state"] in ("failed", "backoff", "starting") for s in inputs.services)
    out[base + (const.APP_VERSION, 0)] = display(inputs.version, 64)
    out[base + (const.APP_UPTIME, 0)] = ticks(m.get("appliance.uptime_s", nan))
    out[base + (const.APP_DB_SIZE, 0)] = gauge(m.get("appliance.db_mb", nan) * 1000)
    out[base + (const.APP_DISK_FREE, 0)] = gauge(m.get("appliance.disk_free_gb", nan) * 1000)
    out[base + (const.APP_LOAD, 0)] = gauge(m.get("appliance.load1", nan) * 100)
    out[base + (const.APP_LOOP_LAG, 0)] = gauge(m.get("appliance.loop_lag_p99_ms", nan))
    out[base + (const.APP_DEGRADED, 0)] = rfc1902.Integer32(1 if degraded else 2)
    out[base + (const.APP_DISK_LOW_THRESHOLD, 0)] = gauge(inputs.disk_low_mb)


def _services(out: dict[Oid, Any], services: list[Mapping[str, Any]]) -> None:
    e = const.SERVICE_ENTRY
    for i, svc in enumerate(services, start=1):
        out[e + (2, i)] = display(svc["name"], 64)
        out[e + (3, i)] = rfc1902.Integer32(const.SERVICE_STATES.get(svc["state"], 6))
        out[e + (4, i)] = counter(svc.get("restarts", 0))
        out[e + (5, i)] = ticks(svc.get("uptime_s", 0.0))
        out[e + (6, i)] = display(svc.get("last_error") or "")


def _hardware(out: dict[Oid, Any], hardware: Mapping[str, Mapping[str, Any]], idx: IndexMap) -> None:
    e = const.HARDWARE_ENTRY
    for name in sorted(hardware):
        row, i = hardware[name], idx.index(name)
        out[e + (2, i)] = display(name, 64)
        out[e + (3, i)] = rfc1902.Integer32(const.DEVICE_KINDS.get(row.get("type", ""), 1))
        out[e + (4, i)] = display(row.get("device", ""))
        out[e + (5, i)] = rfc1902.Integer32(const.DEVICE_STATES.get(row.get("state", ""), 1))
        signal = row.get("signal_dbm")
        if isinstance(signal, (int, float)) and not math.isnan(signal):
            out[e + (6, i)] = rfc1902.Integer32(int(min(max(signal, -150), 0)))
        last = row.get("last_activity")
        if isinstance(last, (int, float)) and last > 0 and not math.isnan(last):
            out[e + (7, i)] = date_and_time(last)


def _queues(out: dict[Oid, Any], metrics: Mapping[str, float], idx: IndexMap) -> None:
    e = const.QUEUE_ENTRY
    rows = queue_rows(metrics)
    for name in sorted(rows):
        row, i = rows[name], idx.index(name)
        out[e + (2, i)] = display(name, 64)
        for col, field_name in enumerate(const.QUEUE_FIELDS, start=3):
            if field_name in row:
                value = row[field_name]
                if field_name.endswith("_pct") and not math.isnan(value):
                    value = min(value, 100)
                out[e + (col, i)] = gauge(value)


def _intake(out: dict[Oid, Any], metrics: Mapping[str, float], idx: IndexMap) -> None:
    e = const.INTAKE_ENTRY
    rows = rows_from_metrics(metrics, const.INTAKE_PREFIX, const.INTAKE_FIELDS)
    for name in sorted(rows):
        row, i = rows[name], idx.index(name)
        out[e + (2, i)] = display(name, 32)
        for col, field_name in enumerate(const.INTAKE_FIELDS, start=3):
            out[e + (col, i)] = counter(row.get(field_name, 0.0))
