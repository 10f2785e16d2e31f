"""Rolling KPIs for the wallboard: the last 15 minutes next to today's totals (B16)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW_S = 15 * 60


@dataclass(frozen=True)
class Outcome:
    """One finished wait: answered (with wait) or abandoned."""

    at: float
    queue_id: str
    answered: bool
    wait_s: float


class RollingKpis:
    """Outcomes of the last WINDOW_S seconds per queue."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._outcomes: deque[Outcome] = deque()

    def record(self, outcome: Outcome) -> None:
        """Add an outcome (in time order)."""
        self._outcomes.append(outcome)

    def _trim(self, now: float) -> None:
        while self._outcomes and now - self._outcomes[0].at > self.window_s:
            self._outcomes.popleft()

    def summary(self, queue_id: str, now: float, sl_target_s: float) -> dict[str, float | int | None]:
        """Offered, answered, abandoned, service level, average and longest wait in the window."""
        self._trim(now)
        mine = [o for o in self._outcomes if o.queue_id == queue_id]
        answered = [o for o in mine if o.answered]
        offered = len(mine)
        within = sum(1 for o in answered if o.wait_s <= sl_target_s)
        return {
            "offered": offered,
            "answered": len(answered),
            "abandoned": offered - len(answered),
            "service_level": round(within / offered, 4) if offered else None,
            "avg_wait_s": round(sum(o.wait_s for o in answered) / len(answered), 1) if answered else None,
            "longest_wait_s": round(max((o.wait_s for o in mine), default=0.0), 1) if mine else None,
        }
