"""Pure text views of the running appliance's status (the control socket's `status` answer)."""
from __future__ import annotations

from typing import Any, Mapping

from appliance.console.screen import format_duration, render_table

# Services that drive hardware: their health is the hardware table.
HARDWARE_SERVICES = ("pbx_bridge", "fax", "isdn_fax", "sms", "scanner")
SERVICE_COLUMNS = [("Service", 11), ("State", 9), ("Restarts", 8), ("Uptime", 12), ("Note", 0)]


def summary_line(status: Mapping[str, Any] | None) -> str:
    """One line for the top of the main menu."""
    if status is None:
        return "Appliance: NOT RUNNING (or not answering on its control socket)"
    services = status.get("services", [])
    bad = [s["name"] for s in services if s.get("state") in ("failed", "backoff", "starting")]
    state = f"DEGRADED ({', '.join(bad)})" if bad else "running, all enabled services OK"
    return f"Appliance {status.get('version', '?')}: {state}; web port {status.get('web_port', '?')}"


def _note(service: Mapping[str, Any]) -> str:
    health = service.get("health") or {}
    extra = ", ".join(f"{k}={v}" for k, v in health.items() if not isinstance(v, (dict, list)))
    return service.get("last_error") or extra


def service_lines(status: Mapping[str, Any]) -> list[str]:
    """The services table."""
    rows = [(s["name"], s["state"], s["restarts"],
             format_duration(s.get("uptime_s", 0)) if s["state"] == "running" else "-", _note(s))
            for s in status.get("services", [])]
    return render_table(SERVICE_COLUMNS, rows)


def hardware_lines(status: Mapping[str, Any]) -> list[str]:
    """Each hardware-driving service and what its health says about its devices."""
    lines = []
    for s in status.get("services", []):
        if s["name"] not in HARDWARE_SERVICES:
            continue
        health = s.get("health") or {}
        devices = health.get("devices") or health.get("modems") or health.get("lines")
        if isinstance(devices, list) and devices:
            for dev in devices:
                if isinstance(dev, Mapping):
                    desc = ", ".join(f"{k}={v}" for k, v in dev.items())
                else:
                    desc = str(dev)
                lines.append(f"  {s['name']}: {desc}")
        elif s["state"] == "disabled":
            lines.append(f"  {s['name']}: {s.get('last_error') or 'not built'}")
        else:
            lines.append(f"  {s['name']}: {s['state']}")
    return lines or ["  (no hardware services)"]


def queue_lines(metrics: Mapping[str, float]) -> list[str]:
    """Queue figures from the metrics registry (`queue.<name>.<figure>`)."""
    queues: dict[str, dict[str, float]] = {}
    for name, value in metrics.items():
        parts = name.split(".")
        if parts[0] == "queue" and len(parts) >= 3:
            queues.setdefault(parts[1], {})[".".join(parts[2:])] = value
    if not queues:
        return ["  (no queue figures reported yet)"]
    return [f"  {q}: " + ", ".join(f"{k} {v:g}" for k, v in sorted(figs.items())) for q, figs in sorted(queues.items())]


def figure_line(metrics: Mapping[str, float]) -> str:
    """Load, memory, database, disk and loop lag on one line."""
    def fig(key: str, fmt: str) -> str:
        value = metrics.get(key)
        return fmt.format(value) if isinstance(value, (int, float)) and value == value else "?"
    return (f"Load {fig('appliance.load1', '{:.2f}')}  Memory {fig('appliance.rss_mb', '{:.0f}')} MB  "
            f"DB {fig('appliance.db_mb', '{:.1f}')} MB  Free disk {fig('appliance.disk_free_gb', '{:.1f}')} GB  "
            f"Lag p99 {fig('appliance.loop_lag_p99_ms', '{:.1f}')} ms")


def status_lines(status: Mapping[str, Any] | None) -> list[str]:
    """The whole status screen."""
    if status is None:
        return ["The appliance is not running (nothing answers on its control socket).",
                "Start it with `systemctl start appliance`, then look again."]
    metrics = status.get("metrics", {})
    up = metrics.get("appliance.uptime_s", 0)
    lines = [summary_line(status), f"Up {format_duration(up)}.  " + figure_line(metrics), ""]
    lines += service_lines(status)
    lines += ["", "Hardware:"] + hardware_lines(status)
    lines += ["", "Queues:"] + queue_lines(metrics)
    return lines
