"""Read-only views of a running engine for announcements, desks and wallboards: place in line, estimated
wait (observed and Erlang C), and one queue's figures at a glance."""
from __future__ import annotations

from dataclasses import dataclass

from appliance.domain.acd.calls import WAITING_STATES
from appliance.domain.acd.engine import AcdEngine
from appliance.domain.acd.erlang import average_speed_of_answer, service_level
from appliance.domain.acd.errors import InvalidTransition
from appliance.domain.acd.stats import estimated_wait as _ewt


@dataclass(slots=True)
class QueueSnapshot:
    """A queue now: what the Swedish wallboard shows per bar, plus the running figures."""

    queue_id: str
    name: str
    waiting: int
    longest_wait: float
    logged_in: int
    working: int
    free: int
    service_level: float | None
    sl_goal: float
    asa: float | None
    estimated_wait: float | None
    stats: dict[str, object]


def position(engine: AcdEngine, call_id: str) -> int:
    """The call's place in line in its first queue (1 = next), for "köplats" announcements."""
    call = engine.call(call_id)
    if call.state not in WAITING_STATES:
        raise InvalidTransition(f"call {call_id!r} is {call.state.value}, not waiting")
    line = engine.waiting_calls(call.queue_ids[0])
    return next(i for i, c in enumerate(line, 1) if c is call)


def estimated_wait(engine: AcdEngine, queue_id: str, place: int | None = None) -> float | None:
    """Observed EWT in seconds for a call at `place` (default: a call arriving now), from recent handle times."""
    stats = engine.stats(queue_id)
    _, working, free = engine.staffing(queue_id)
    if place is None:
        place = engine.waiting_count(queue_id) + 1
    return _ewt(place, working, free, stats.recent_handle_time(engine.default_handle_s))


def call_estimated_wait(engine: AcdEngine, call_id: str) -> float | None:
    """Observed EWT for a call already waiting ("beräknad kötid")."""
    call = engine.call(call_id)
    return estimated_wait(engine, call.queue_ids[0], position(engine, call_id))


def erlang_forecast(engine: AcdEngine, queue_id: str, arrivals_per_s: float) -> dict[str, float]:
    """Erlang C service level and ASA with today's working agents, the observed handle time and a given load."""
    queue = engine.queue(queue_id)
    handle = engine.stats(queue_id).recent_handle_time(engine.default_handle_s)
    _, working, _ = engine.staffing(queue_id)
    traffic = arrivals_per_s * handle
    return {
        "agents": working, "traffic_erlangs": traffic, "handle_s": handle,
        "service_level": service_level(working, traffic, handle, queue.sl_target_s),
        "asa_s": average_speed_of_answer(working, traffic, handle),
    }


def queue_snapshot(engine: AcdEngine, queue_id: str, now: float) -> QueueSnapshot:
    """Everything a wallboard bar needs for one queue."""
    queue = engine.queue(queue_id)
    waiting = engine.waiting_calls(queue_id)
    logged_in, working, free = engine.staffing(queue_id)
    stats = engine.stats(queue_id)
    longest = max((now - c.enqueued_at for c in waiting), default=0.0)
    return QueueSnapshot(queue.id, queue.name, len(waiting), longest, logged_in, working, free,
                         stats.service_level(), queue.sl_goal, stats.asa(), estimated_wait(engine, queue_id),
                         stats.to_data())
