"""Observed figures: service-level definition, ASA, EWT, place in line, wallboard snapshot."""
from __future__ import annotations

import pytest

from appliance.domain.acd import InvalidTransition, InvalidValue, LossType, QueueConfig, QueueStats
from appliance.domain.acd.stats import estimated_wait
from appliance.domain.acd.views import (call_estimated_wait, erlang_forecast, position, queue_snapshot)
from tests.domain.acd.helpers import agent, engine_with, new_call


def test_service_level_is_answered_in_target_over_calls_with_an_outcome() -> None:
    stats = QueueStats(sl_target_s=20.0, short_abandon_s=5.0)
    for wait in (3.0, 19.0, 20.0, 45.0):
        stats.record_answer(wait)
    stats.record_abandon(2.0, LossType.ABANDONED_IN_QUEUE)  # short: not counted as offered
    stats.record_abandon(30.0, LossType.ABANDONED_IN_QUEUE)
    stats.record_overflow_out(None)
    assert stats.offered == 6
    assert stats.service_level() == pytest.approx(3 / 6)
    assert stats.asa() == pytest.approx(87.0 / 4)
    assert stats.abandon_rate() == pytest.approx(2 / 6)
    assert QueueStats().service_level() is None and QueueStats().asa() is None


def test_estimated_wait_from_position_and_staffing() -> None:
    assert estimated_wait(1, 5, 1, 120.0) == 0.0
    assert estimated_wait(3, 4, 0, 120.0) == pytest.approx(90.0)
    assert estimated_wait(3, 4, 1, 120.0) == pytest.approx(60.0)
    assert estimated_wait(1, 0, 0, 120.0) is None
    with pytest.raises(InvalidValue):
        estimated_wait(0, 1, 0, 1.0)


def test_views_over_a_running_engine() -> None:
    engine = engine_with([QueueConfig("q", sl_target_s=20.0)], [agent("a", "1"), agent("b", "2")],
                         {"a": 0.0, "b": 0.0}, default_handle_s=100.0)
    for i in range(4):
        engine.enqueue(new_call(f"c{i}", priority=1 if i == 3 else 0), "q", float(i))
    engine.route(3.0)  # c3 (priority) and c0 ring at a and b
    assert [c.id for c in engine.waiting_calls("q")] == ["c1", "c2"]
    assert position(engine, "c2") == 2
    with pytest.raises(InvalidTransition):
        position(engine, "c0")
    # two working agents, none free, 100 s handle time: the second in line waits about 100 s
    assert call_estimated_wait(engine, "c2") == pytest.approx(100.0)
    snap = queue_snapshot(engine, "q", 10.0)
    assert (snap.waiting, snap.longest_wait, snap.logged_in, snap.working, snap.free) == (2, 9.0, 2, 2, 0)
    assert snap.estimated_wait == pytest.approx(150.0)
    forecast = erlang_forecast(engine, "q", 0.01)
    assert forecast["agents"] == 2 and 0.0 < forecast["service_level"] <= 1.0
