"""Event-loop lag: how late a short sleep wakes up. A stalled loop delays every call and screen pop."""
from __future__ import annotations

import asyncio
import time
from collections import deque

LAG_INTERVAL_S = 0.05
LAG_WINDOW = 1200  # last minute at the interval above


class LoopLagMonitor:
    """Samples loop lag and reports percentiles over a sliding window."""

    def __init__(self, interval_s: float = LAG_INTERVAL_S, window: int = LAG_WINDOW) -> None:
        self.interval_s = interval_s
        self.samples: deque[float] = deque(maxlen=window)
        self.last_sample_at = time.monotonic()

    async def run(self) -> None:
        """Sample forever."""
        while True:
            start = time.monotonic()
            await asyncio.sleep(self.interval_s)
            now = time.monotonic()
            self.samples.append(max(0.0, now - start - self.interval_s))
            self.last_sample_at = now

    def percentile_ms(self, p: float) -> float:
        """The p-th percentile of recent lag, milliseconds."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))
        return ordered[index] * 1000
