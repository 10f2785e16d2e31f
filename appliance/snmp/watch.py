"""When to notify: edge detection over service states, hardware rows and metrics (no I/O).

Each watch remembers what it reported, so a condition gives one notification when it starts
and, where the MIB defines one, one when it ends; a steady state never repeats itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from appliance.snmp import const
from appliance.snmp.const import Oid
from appliance.snmp.view import queue_rows, rows_from_metrics

DOWN_STATES = frozenset({"backoff", "failed"})


@dataclass(frozen=True)
class Notice:
    """One notification to send: which (snmpTrapOID) and about what (a row's name, or "")."""

    trap: Oid
    subject: str = ""


@dataclass
class ServiceWatch:
    """serviceFailed once per outage (and once more when the supervisor gives up), then
    serviceRecovered when the service runs again."""

    reported: dict[str, str] = field(default_factory=dict)  # name -> state sent in serviceFailed

    def update(self, name: str, state: str) -> Notice | None:
        """A service changed state (a SERVICE_STATE event of the bus)."""
        if state in DOWN_STATES:
            before = self.reported.get(name)
            if before is None or (state == "failed" and before != "failed"):
                self.reported[name] = state
                return Notice(const.SERVICE_FAILED, name)
            return None
        if state == "running" and self.reported.pop(name, None) is not None:
            return Notice(const.SERVICE_RECOVERED, name)
        return None


@dataclass
class ConditionWatch:
    """modemLost/modemBack, diskLow, quarantineGrowing and queueServiceLevelLow from polling."""

    disk_low_mb: float
    quarantine_step: int
    default_sl_target_pct: float
    devices: dict[str, str] = field(default_factory=dict)       # name -> last state seen
    lost: set[str] = field(default_factory=set)
    disk_low: bool = False
    quarantine_base: dict[str, float] = field(default_factory=dict)
    queues_low: set[str] = field(default_factory=set)

    def update(self, metrics: Mapping[str, float], hardware: Mapping[str, Mapping[str, Any]]) -> list[Notice]:
        """Compare the present with what was seen last time; the notices to send now."""
        out = self._devices(hardware)
        out += self._disk(metrics.get("appliance.disk_free_gb", math.nan))
        out += self._quarantine(metrics)
        out += self._queues(metrics)
        return out

    def _devices(self, hardware: Mapping[str, Mapping[str, Any]]) -> list[Notice]:
        out = []
        for name, row in hardware.items():
            state = str(row.get("state", "unknown"))
            before = self.devices.get(name)
            self.devices[name] = state
            if before in const.DEVICE_PRESENT and state in const.DEVICE_GONE:
                self.lost.add(name)
                out.append(Notice(const.MODEM_LOST, name))
            elif name in self.lost and state in const.DEVICE_PRESENT:
                self.lost.discard(name)
                out.append(Notice(const.MODEM_BACK, name))
        return out

    def _disk(self, free_gb: float) -> list[Notice]:
        if math.isnan(free_gb):
            return []
        low = free_gb * 1000 < self.disk_low_mb
        fire = low and not self.disk_low
        self.disk_low = low
        return [Notice(const.DISK_LOW)] if fire else []

    def _quarantine(self, metrics: Mapping[str, float]) -> list[Notice]:
        out = []
        rows = rows_from_metrics(metrics, const.INTAKE_PREFIX, const.INTAKE_FIELDS)
        for channel, row in sorted(rows.items()):
            count = row.get("quarantined", 0.0)
            if math.isnan(count):
                continue
            base = self.quarantine_base.setdefault(channel, count)
            if count - base >= self.quarantine_step:
                self.quarantine_base[channel] = count
                out.append(Notice(const.QUARANTINE_GROWING, channel))
        return out

    def _queues(self, metrics: Mapping[str, float]) -> list[Notice]:
        out = []
        for name, row in sorted(queue_rows(metrics).items()):
            level = row.get("service_level_pct", math.nan)
            target = row.get("service_level_target_pct", self.default_sl_target_pct)
            if math.isnan(level) or math.isnan(target):
                continue
            if level < target and name not in self.queues_low:
                self.queues_low.add(name)
                out.append(Notice(const.QUEUE_SERVICE_LEVEL_LOW, name))
            elif level >= target:
                self.queues_low.discard(name)
        return out
