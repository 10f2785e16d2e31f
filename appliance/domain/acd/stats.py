"""Observed queue figures: offered, answered, abandoned, service level, ASA, and estimated wait (EWT)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from appliance.domain.acd.calls import LossType
from appliance.domain.acd.errors import InvalidValue

# "呼入客户容忍度报表" (caller tolerance report): how long callers waited before giving up, in these bands (s)
TOLERANCE_BANDS = (10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
RECENT_HANDLES = 200


@dataclass(slots=True)
class QueueStats:
    """Running figures for one queue, counted in the queue the call first entered.

    Service level here is answered within the target / offered, where offered counts the calls that
    reached an outcome: answered + abandoned (minus abandons faster than `short_abandon_s`) + sent on
    to an external number or given up by an overflow rule. Calls still waiting are not in it, so the
    figure does not dip while calls queue; callbacks (C13) are counted apart and kept out of it.
    """

    sl_target_s: float = 20.0
    short_abandon_s: float = 0.0
    arrived: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    overflowed_out: int = 0
    callbacks_requested: int = 0
    callbacks_answered: int = 0
    lost: dict[LossType, int] = field(default_factory=lambda: {kind: 0 for kind in LossType})
    tolerance: list[int] = field(default_factory=lambda: [0] * (len(TOLERANCE_BANDS) + 1))
    total_answer_wait: float = 0.0
    longest_answer_wait: float = 0.0
    handled: int = 0
    total_handle: float = 0.0
    recent_handles: deque = field(default_factory=lambda: deque(maxlen=RECENT_HANDLES))

    @property
    def offered(self) -> int:
        """Calls with an outcome, as counted for the service level."""
        return self.answered + self.abandoned - self.abandoned_short + self.overflowed_out

    def record_answer(self, wait: float) -> None:
        """A call was answered after waiting `wait` seconds since it first queued."""
        self.answered += 1
        if wait <= self.sl_target_s:
            self.answered_in_sl += 1
        self.total_answer_wait += wait
        if wait > self.longest_answer_wait:
            self.longest_answer_wait = wait

    def record_abandon(self, wait: float, loss: LossType) -> None:
        """The caller hung up after `wait` seconds without being answered."""
        self.abandoned += 1
        self.lost[loss] += 1
        if wait < self.short_abandon_s:
            self.abandoned_short += 1
        band = 0
        while band < len(TOLERANCE_BANDS) and wait >= TOLERANCE_BANDS[band]:
            band += 1
        self.tolerance[band] += 1

    def record_overflow_out(self, loss: LossType | None) -> None:
        """The call left the ACD by an overflow rule: redirected (no loss) or given up (a loss)."""
        self.overflowed_out += 1
        if loss is not None:
            self.lost[loss] += 1

    def record_handle(self, seconds: float) -> None:
        """An agent spent `seconds` on a call (talk plus wrap-up)."""
        self.handled += 1
        self.total_handle += seconds
        self.recent_handles.append(seconds)

    def service_level(self) -> float | None:
        """Answered within target / offered (see the class note), or None before any outcome."""
        offered = self.offered
        return self.answered_in_sl / offered if offered else None

    def asa(self) -> float | None:
        """Average speed of answer in seconds, or None before any answer."""
        return self.total_answer_wait / self.answered if self.answered else None

    def abandon_rate(self) -> float | None:
        """Abandoned / (answered + abandoned), or None before any."""
        total = self.answered + self.abandoned
        return self.abandoned / total if total else None

    def recent_handle_time(self, default: float) -> float:
        """Mean of the recent handle times, or `default` before any."""
        recent = self.recent_handles
        return sum(recent) / len(recent) if recent else default

    def to_data(self) -> dict[str, object]:
        """The figures as plain data."""
        return {
            "arrived": self.arrived, "offered": self.offered, "answered": self.answered,
            "answered_in_sl": self.answered_in_sl, "abandoned": self.abandoned,
            "abandoned_short": self.abandoned_short, "overflowed_out": self.overflowed_out,
            "callbacks_requested": self.callbacks_requested, "callbacks_answered": self.callbacks_answered,
            "lost": {kind.value: n for kind, n in self.lost.items()}, "tolerance_bands_s": list(TOLERANCE_BANDS),
            "tolerance": list(self.tolerance), "service_level": self.service_level(), "asa": self.asa(),
            "abandon_rate": self.abandon_rate(), "longest_answer_wait": self.longest_answer_wait,
            "handled": self.handled,
        }


def estimated_wait(position: int, agents_working: int, agents_free: int, handle_time: float) -> float | None:
    """EWT for a call with `position − 1` calls ahead of it, from the observed handle time.

    With a free agent the wait is 0. Otherwise the working agents finish calls at a rate of about
    agents_working / handle_time, and the call is served at the position-th completion. None when
    nobody is working (the wait is unbounded).
    """
    if position < 1:
        raise InvalidValue(f"position counts from 1, got {position}")
    if agents_free > 0 and position <= agents_free:
        return 0.0
    if agents_working <= 0:
        return None
    return (position - agents_free) * handle_time / agents_working
