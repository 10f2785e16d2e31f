"""Overflow by queue state (B8): no agents, wait, size, calendar; to a queue, alongside, out, or given up."""
from __future__ import annotations

from datetime import date, time

import pytest

from appliance.domain.acd import (AcdConfigError, AcdEventKind, CallState, DecisionAction, LossType, OpeningCalendar,
                                  OverflowRule, OverflowWhen, QueueConfig, Rule, Trigger, UnknownCall)
from tests.domain.acd.helpers import agent, engine_with, new_call, offer_of


def test_no_agents_logged_in_sends_an_arriving_call_to_the_backup_queue() -> None:
    backup = QueueConfig("backup")
    main = QueueConfig("main", skills={"sv": 1},
                       overflow=(OverflowRule(OverflowWhen.NO_AGENTS, to_queue="backup"),))
    engine = engine_with([backup, main], [agent("b", "1")], {"b": 0.0})
    engine.enqueue(new_call("c1"), "main", 1.0)
    d = offer_of(engine.route(1.0), "c1")
    assert d.queue_id == "backup" and d.agent_ids == ("b",)
    assert engine.call("c1").queue_id == "main"  # still counted in the queue it entered


def test_last_agent_logging_out_sends_waiting_calls_on() -> None:
    main = QueueConfig("main", overflow=(OverflowRule(OverflowWhen.NO_AGENTS, to_number="+46812345678"),))
    engine = engine_with([main], [agent("a", "1")], {"a": 0.0})
    engine.pause("a", "lunch", 1.0)
    engine.enqueue(new_call("c1"), "main", 2.0)
    assert engine.route(2.0) == []  # a paused agent is still logged in
    engine.agent_logout("a", 3.0)
    d = offer_of(engine.route(3.0), "c1")
    assert d.action is DecisionAction.REDIRECT and d.target == "+46812345678"
    assert d.trigger is Trigger.QUEUE_STATE and d.rule is Rule.OVERFLOW_NO_AGENTS
    assert engine.stats("main").overflowed_out == 1 and engine.stats("main").lost[LossType.NO_AGENT] == 0


def test_wait_over_moves_the_call_and_keep_searching_adds_a_queue() -> None:
    spill = QueueConfig("spill")
    moved = QueueConfig("moved")
    main = QueueConfig("main", overflow=(OverflowRule(OverflowWhen.WAIT_OVER, 30.0, to_queue="spill",
                                                      keep_searching=True),
                                         OverflowRule(OverflowWhen.WAIT_OVER, 60.0, to_queue="moved")))
    engine = engine_with([spill, moved, main], [agent("m", "1", skills={"x": 1})])
    engine.add_queue(QueueConfig("main", skills={"x": 1}, overflow=main.overflow))
    engine.enqueue(new_call("c1"), "main", 0.0)
    assert engine.next_deadline() == 30.0
    engine.tick(30.0)
    assert engine.call("c1").queue_ids == ("main", "spill")
    assert [c.id for c in engine.waiting_calls("spill")] == ["c1"]
    engine.tick(60.0)
    assert engine.call("c1").queue_ids == ("moved",)
    assert engine.waiting_calls("main") == [] and engine.waiting_calls("spill") == []
    overflowed = [e for e in engine.drain_events() if e.kind is AcdEventKind.CALL_OVERFLOWED]
    assert [(e.target, e.reason) for e in overflowed] == [("spill", "wait_over"), ("moved", "wait_over")]


def test_a_call_searching_two_queues_goes_to_whichever_gets_a_free_agent() -> None:
    spill = QueueConfig("spill")
    main = QueueConfig("main", skills={"x": 1},
                       overflow=(OverflowRule(OverflowWhen.WAIT_OVER, 10.0, to_queue="spill", keep_searching=True),))
    engine = engine_with([spill, main], [agent("generalist", "1")], {"generalist": 0.0})
    engine.enqueue(new_call("c1"), "main", 1.0)
    assert engine.route(1.0) == []
    engine.tick(11.0)
    d = offer_of(engine.route(11.0), "c1")
    assert d.queue_id == "spill" and d.agent_ids == ("generalist",)


def test_wait_over_without_target_gives_the_call_up_as_a_timeout_loss() -> None:
    main = QueueConfig("main", overflow=(OverflowRule(OverflowWhen.WAIT_OVER, 120.0),))
    engine = engine_with([main], [])
    call = new_call("c1")
    engine.enqueue(call, "main", 0.0)
    engine.tick(119.0)
    assert engine.route(119.0) == []
    engine.tick(120.0)
    d = offer_of(engine.route(120.0), "c1")
    assert d.action is DecisionAction.DISCONNECT and d.rule is Rule.OVERFLOW_WAIT
    assert call.state is CallState.OVERFLOWED and call.loss is LossType.TIMEOUT
    assert engine.stats("main").lost[LossType.TIMEOUT] == 1
    with pytest.raises(UnknownCall):
        engine.call("c1")


def test_a_call_being_offered_is_not_overflowed_until_it_comes_back() -> None:
    main = QueueConfig("main", offer_timeout_s=20.0, no_answer_pause=None,
                       overflow=(OverflowRule(OverflowWhen.WAIT_OVER, 10.0, to_number="+4611"),))
    engine = engine_with([main], [agent("a", "1")], {"a": 0.0})
    engine.enqueue(new_call("c1"), "main", 0.0)
    engine.route(0.0)
    engine.tick(10.0)
    assert engine.call("c1").state is CallState.OFFERED
    engine.offer_result("c1", "a", False, 15.0)
    engine.pause("a", "lunch", 15.0)
    engine.tick(15.0)
    assert offer_of(engine.route(15.0), "c1").action is DecisionAction.REDIRECT


def test_size_over_sends_the_newest_call_away() -> None:
    main = QueueConfig("main", overflow=(OverflowRule(OverflowWhen.SIZE_OVER, 2, to_number="+4622"),))
    engine = engine_with([main], [agent("a", "1")])
    engine.agent_login("a", 0.0, pause_reason="lunch")
    for i in range(3):
        engine.enqueue(new_call(f"c{i}"), "main", float(i))
    decisions = engine.route(3.0)
    assert [(d.call_id, d.action, d.rule) for d in decisions] == [("c2", DecisionAction.REDIRECT, Rule.OVERFLOW_SIZE)]
    assert engine.waiting_count("main") == 2


def test_closed_by_calendar_overflows_on_arrival() -> None:
    calendar = OpeningCalendar("Europe/Stockholm", {d: [(time(8), time(17))] for d in range(5)},
                               holidays=[date(2026, 12, 25)])
    main = QueueConfig("main", calendar=calendar,
                       overflow=(OverflowRule(OverflowWhen.CLOSED, to_number="+46700000000"),))
    engine = engine_with([main], [agent("a", "1")], {"a": 0.0})
    christmas_noon = 1798196400.0  # 2026-12-25 12:00 CET, a Friday and a holiday
    engine.enqueue(new_call("xmas"), "main", christmas_noon)
    assert offer_of(engine.route(christmas_noon), "xmas").rule is Rule.OVERFLOW_CLOSED
    engine.enqueue(new_call("monday"), "main", christmas_noon + 3 * 86400)  # Monday 28th, 12:00
    assert offer_of(engine.route(christmas_noon + 3 * 86400), "monday").action is DecisionAction.OFFER


def test_overflow_loops_end_in_a_loss_instead_of_spinning() -> None:
    engine = engine_with([QueueConfig("a", skills={"nobody": 1})], [])
    engine.add_queue(QueueConfig("b", skills={"nobody": 1},
                                 overflow=(OverflowRule(OverflowWhen.NO_AGENTS, to_queue="a"),)))
    engine.add_queue(QueueConfig("a", skills={"nobody": 1},
                                 overflow=(OverflowRule(OverflowWhen.NO_AGENTS, to_queue="b"),)))
    engine.enqueue(new_call("c1"), "a", 0.0)
    d = offer_of(engine.route(0.0), "c1")
    assert d.action is DecisionAction.DISCONNECT
    assert engine.stats("a").lost[LossType.NO_AGENT] == 1


def test_overflow_rules_are_checked_when_configured() -> None:
    with pytest.raises(AcdConfigError):
        OverflowRule(OverflowWhen.WAIT_OVER, 10, to_queue="x", to_number="1")
    with pytest.raises(AcdConfigError):
        OverflowRule(OverflowWhen.WAIT_OVER, 10, to_number="1", keep_searching=True)
    with pytest.raises(AcdConfigError):
        QueueConfig("q", overflow=(OverflowRule(OverflowWhen.CLOSED, to_number="1"),))  # no calendar
    with pytest.raises(AcdConfigError):
        QueueConfig("q", overflow=(OverflowRule(OverflowWhen.WAIT_OVER, 5, to_queue="q"),))
    engine = engine_with([], [])
    with pytest.raises(AcdConfigError):
        engine.add_queue(QueueConfig("q", overflow=(OverflowRule(OverflowWhen.WAIT_OVER, 5, to_queue="zz"),)))
