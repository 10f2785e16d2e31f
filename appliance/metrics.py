"""One registry of counters and gauges, read by SNMP, the admin console and /metrics."""
from __future__ import annotations

import threading
from typing import Callable


class Metrics:
    """Named counters (only go up) and gauges (set, or computed on read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # intake runs partly in executor threads
        self.counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}
        self.computed: dict[str, Callable[[], float]] = {}
        self.help: dict[str, str] = {}

    def inc(self, name: str, amount: float = 1.0) -> None:
        """Add to a counter."""
        with self._lock:
            self.counters[name] = self.counters.get(name, 0.0) + amount

    def set(self, name: str, value: float) -> None:
        """Set a gauge."""
        with self._lock:
            self.gauges[name] = value

    def gauge_fn(self, name: str, fn: Callable[[], float], help_text: str = "") -> None:
        """A gauge computed when read (database size, free disk, loop lag)."""
        self.computed[name] = fn
        if help_text:
            self.help[name] = help_text

    def read(self) -> dict[str, float]:
        """Every metric's current value."""
        with self._lock:
            out = {**self.counters, **self.gauges}
        for name, fn in self.computed.items():
            try:
                out[name] = float(fn())
            except Exception:  # a broken probe must not break the whole read
                out[name] = float("nan")
        return out

    def prometheus_text(self) -> str:
        """The Prometheus text exposition format."""
        lines = []
        for name, value in sorted(self.read().items()):
            metric = "appliance_" + name.replace(".", "_").replace("-", "_")
            if name in self.help:
                lines.append(f"# HELP {metric} {self.help[name]}")
            kind = "counter" if name in self.counters else "gauge"
            lines.append(f"# TYPE {metric} {kind}")
            lines.append(f"{metric} {value}")
        return "\n".join(lines) + "\n"
