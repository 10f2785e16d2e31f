"""A discrete-event call-centre simulator driving the real AcdEngine: Poisson arrivals per queue and hour,
exponential or lognormal handle times, caller patience, agents answering offers after a delay.

Pure: time is a number, randomness comes from the `random.Random` given; nothing sleeps. A real-time
adapter calls `run_until(wall_clock_now)` now and then; tests and the bench run whole days at once.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

from appliance.domain.acd.calls import Call, CallState
from appliance.domain.acd.decisions import Decision, DecisionAction
from appliance.domain.acd.engine import AcdEngine
from appliance.domain.acd.errors import InvalidValue
from appliance.domain.acd.events import AcdEvent

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(slots=True, frozen=True)
class Exponential:
    """Exponentially distributed durations with this mean (seconds)."""

    mean: float

    def sample(self, rng: random.Random) -> float:
        """One draw."""
        return rng.expovariate(1.0 / self.mean) if self.mean > 0 else 0.0


@dataclass(slots=True, frozen=True)
class LogNormal:
    """Lognormal durations given by their mean and coefficient of variation (sd / mean)."""

    mean: float
    cv: float = 1.0

    def sample(self, rng: random.Random) -> float:
        """One draw."""
        sigma2 = math.log(1.0 + self.cv * self.cv)
        mu = math.log(self.mean) - sigma2 / 2.0
        return rng.lognormvariate(mu, math.sqrt(sigma2))


@dataclass(slots=True, frozen=True)
class Fixed:
    """Always the same duration."""

    value: float

    def sample(self, rng: random.Random) -> float:
        """The value."""
        return self.value


Duration = Exponential | LogNormal | Fixed


@dataclass(slots=True)
class QueueLoad:
    """Traffic into one queue: calls per hour (one figure, or 24 by hour of day) and their shape."""

    queue_id: str
    calls_per_hour: float | Sequence[float]
    handle: Duration = field(default_factory=lambda: Exponential(180.0))
    # None: callers never give up
    patience: Duration | None = None
    # share of calls with priority 1 (the rest 0)
    priority_share: float = 0.0
    # callers are drawn from this many distinct numbers (0: no caller number), so some call again
    caller_pool: int = 0

    def rate_at(self, t: float) -> float:
        """Arrivals per second at simulated time t (t = 0 is midnight of day one)."""
        rates = self.calls_per_hour
        if isinstance(rates, (int, float)):
            return rates / HOUR
        if len(rates) != 24:
            raise InvalidValue(f"queue {self.queue_id}: calls_per_hour needs 24 hourly figures")
        return rates[int(t % DAY // HOUR)] / HOUR


_ARRIVAL, _ANSWER, _END, _ABANDON = 0, 1, 2, 3


@dataclass(slots=True)
class SimCounts:
    """What happened in the run, over all queues."""

    arrived: int = 0
    offers: int = 0
    answered: int = 0
    abandoned: int = 0
    redirected: int = 0
    ended: int = 0


class Simulator:
    """Drives an AcdEngine with simulated callers and agents (the agents must be added and logged in)."""

    def __init__(self, engine: AcdEngine, loads: Sequence[QueueLoad], rng: random.Random,
                 answer_delay: Duration | None = None, start: float = 0.0,
                 on_decisions: Callable[[list[Decision]], None] | None = None,
                 on_events: Callable[[list[AcdEvent]], None] | None = None) -> None:
        self.engine = engine
        self.loads = list(loads)
        self.rng = rng
        self.answer_delay = answer_delay
        self.now = start
        self.counts = SimCounts()
        self.on_decisions = on_decisions
        # the simulator drains the engine's events after every step (so a long run holds none); a real-time
        # adapter passes on_events to forward them to the bus
        self.on_events = on_events
        # answered waits per queue (from first queueing), for callers who want more than the engine's stats
        self.waits: dict[str, list[float]] = {load.queue_id: [] for load in self.loads}
        self.record_waits = False
        self._events: list[tuple] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._live: dict[str, Call] = {}
        self._load_of = {load.queue_id: i for i, load in enumerate(self.loads)}
        for index, load in enumerate(self.loads):
            engine.queue(load.queue_id)
            self._schedule_arrival(index, start)

    def _push(self, at: float, kind: int, a: object, b: object = None) -> None:
        heapq.heappush(self._events, (at, next(self._seq), kind, a, b))

    def _schedule_arrival(self, index: int, t: float) -> None:
        """Next arrival after t of a Poisson process whose rate is constant within each hour."""
        load = self.loads[index]
        hourly = not isinstance(load.calls_per_hour, (int, float))
        # bounded: a profile that stays at zero for a long time simply ends the arrivals
        for _ in range(24 * 400):
            rate = load.rate_at(t)
            boundary = (math.floor(t / HOUR) + 1) * HOUR if hourly else math.inf
            if rate > 0:
                nxt = t + self.rng.expovariate(rate)
                if nxt < boundary:
                    self._push(nxt, _ARRIVAL, index)
                    return
            if not hourly:
                return
            # memoryless: restart the draw at the hour boundary with the next hour's rate
            t = boundary

    def next_event_time(self) -> float | None:
        """When something next happens: a simulated event or an engine timer."""
        sim = self._events[0][0] if self._events else None
        eng = self.engine.next_deadline()
        if sim is None:
            return eng
        return sim if eng is None or sim <= eng else eng

    def run_until(self, t_end: float) -> None:
        """Process everything due up to t_end, then leave `now` at t_end."""
        while True:
            t = self.next_event_time()
            if t is None or t > t_end:
                break
            self.step()
        if t_end > self.now:
            self.now = t_end

    def step(self) -> bool:
        """Process the next event (and the routing it causes); False when nothing is left to do."""
        events = self._events
        eng_t = self.engine.next_deadline()
        if events and (eng_t is None or events[0][0] <= eng_t):
            at, _, kind, a, b = heapq.heappop(events)
            self.now = max(self.now, at)
            self._handle(kind, a, b)
        elif eng_t is not None:
            self.now = max(self.now, eng_t)
            self.engine.tick(self.now)
        else:
            return False
        self._apply(self.engine.route(self.now))
        events = self.engine.drain_events()
        if events and self.on_events is not None:
            self.on_events(events)
        return True

    def _handle(self, kind: int, a: object, b: object) -> None:
        engine, now = self.engine, self.now
        if kind == _ARRIVAL:
            self._arrive(a, now)  # type: ignore[arg-type]
        elif kind == _ANSWER:
            call = self._live.get(a)  # type: ignore[arg-type]
            if call is not None and call.state is CallState.OFFERED and b in call.offered_to:
                engine.call_answered(call.id, b, now)  # type: ignore[arg-type]
                self.counts.answered += 1
                if self.record_waits:
                    self.waits[call.queue_id].append(now - call.enqueued_at)
                load = self.loads[self._load_of[call.queue_id]]
                self._push(now + load.handle.sample(self.rng), _END, call.id)
        elif kind == _END:
            call = self._live.pop(a, None)  # type: ignore[arg-type]
            if call is not None and call.state is CallState.CONNECTED:
                engine.call_ended(call.id, now)
                self.counts.ended += 1
        elif kind == _ABANDON:
            call = self._live.get(a)  # type: ignore[arg-type]
            if call is not None and call.state in (CallState.QUEUED, CallState.OFFERED):
                engine.abandon(call.id, now)
                self._live.pop(call.id, None)
                self.counts.abandoned += 1

    def _arrive(self, index: int, now: float) -> None:
        load = self.loads[index]
        rng = self.rng
        caller = f"+4670{rng.randrange(load.caller_pool):07d}" if load.caller_pool else ""
        priority = 1 if load.priority_share and rng.random() < load.priority_share else 0
        call = Call(f"sim-{next(self._ids)}", caller=caller, priority=priority)
        self._live[call.id] = call
        self.counts.arrived += 1
        self.engine.enqueue(call, load.queue_id, now)
        if call.state not in (CallState.QUEUED, CallState.OFFERED):
            self._live.pop(call.id, None)
        elif load.patience is not None:
            self._push(now + load.patience.sample(rng), _ABANDON, call.id)
        self._schedule_arrival(index, now)

    def _apply(self, decisions: list[Decision]) -> None:
        """Simulated agents follow the engine: the first of the ringing agents to pick up answers."""
        if not decisions:
            return
        if self.on_decisions is not None:
            self.on_decisions(decisions)
        delay, rng, now = self.answer_delay, self.rng, self.now
        for decision in decisions:
            if decision.action is not DecisionAction.OFFER:
                self._live.pop(decision.call_id, None)
                self.counts.redirected += 1
                continue
            self.counts.offers += 1
            best_at, best_agent = math.inf, None
            for offer in decision.offers:
                at = now + (delay.sample(rng) if delay is not None else 0.0)
                if at < best_at:
                    best_at, best_agent = at, offer.agent_id
            self._push(best_at, _ANSWER, decision.call_id, best_agent)
