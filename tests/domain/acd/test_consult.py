"""Consultation, attended transfer, three-way and held wrap-up in the ACD engine, step by step."""
from __future__ import annotations

import pytest

from appliance.domain.acd import (AcdEventKind, AgentState, CallState, ConsultState, InvalidTransition,
                                  QueueConfig)
from tests.domain.acd.helpers import agent, engine_with, new_call


def talking_engine():
    """a1 talks to c1 in queue q; a2 is ready, a3 paused for lunch."""
    engine = engine_with([QueueConfig("q", wrap_up_s=5.0)], [agent("a1", "201"), agent("a2", "202"),
                                                             agent("a3", "203")], {"a1": 0.0})
    engine.enqueue(new_call("c1", caller="0701"), "q", 1.0)
    engine.route(1.0)
    engine.call_answered("c1", "a1", 2.0)
    engine.agent_login("a2", 2.0)
    engine.agent_login("a3", 2.0, pause_reason="lunch")
    engine.drain_events()
    return engine


def kinds(engine):
    return [(e.kind, e.state, e.reason) for e in engine.drain_events() if e.kind is AcdEventKind.CALL_PARTIES]


def test_consulted_colleague_is_busy_and_takes_the_call_over_on_completion() -> None:
    engine = talking_engine()
    engine.consult_start("c1", 3.0, to_agent="a2")
    assert engine.agent("a2").state is AgentState.BUSY and engine.agent("a2").call_id == "c1"
    engine.enqueue(new_call("c2"), "q", 3.5)
    assert engine.route(3.5) == []  # a consulted colleague gets no queue offer
    engine.consult_answered("c1", 4.0)
    engine.consult_complete("c1", 10.0)
    call = engine.call("c1")
    assert call.state is CallState.CONNECTED and call.agent_id == "a2" and call.consult is None
    assert engine.agent("a1").state is AgentState.WRAP_UP and engine.agent("a1").call_id is None
    engine.call_ended("c1", 20.0)
    assert engine.agent("a2").state is AgentState.WRAP_UP


def test_cancel_returns_a_paused_colleague_to_the_pause() -> None:
    engine = talking_engine()
    engine.consult_start("c1", 3.0, to_agent="a3")
    engine.consult_end("c1", 4.0, "cancelled")
    assert engine.agent("a3").state is AgentState.PAUSED and engine.agent("a3").pause_reason == "lunch"
    assert engine.call("c1").agent_id == "a1" and engine.agent("a1").state is AgentState.BUSY


def test_busy_colleague_cannot_be_consulted_and_nothing_changes() -> None:
    engine = talking_engine()
    engine.consult_start("c1", 3.0, to_agent="a2")
    with pytest.raises(InvalidTransition):
        engine.consult_start("c1", 3.0, to_number="+4688")  # one consultation at a time
    engine.consult_end("c1", 3.5, "no_answer")
    engine.enqueue(new_call("c2"), "q", 4.0)
    engine.route(4.0)
    engine.call_answered("c2", "a2", 5.0)
    with pytest.raises(InvalidTransition):
        engine.consult_start("c1", 6.0, to_agent="a2")
    assert engine.call("c1").consult is None


def test_three_way_then_the_agent_leaves_an_outside_party_with_the_customer() -> None:
    engine = talking_engine()
    engine.consult_start("c1", 3.0, to_number="+4688")
    with pytest.raises(InvalidTransition):
        engine.conference("c1", 3.5)  # not before the party answers
    engine.consult_answered("c1", 4.0)
    engine.conference("c1", 5.0)
    assert engine.call("c1").consult.state is ConsultState.CONFERENCE
    engine.leave_conference("c1", "a1", 9.0)
    assert "c1" not in {c.id for c in engine.live_calls()}
    assert engine.agent("a1").state is AgentState.WRAP_UP
    events = engine.drain_events()
    transferred = [e for e in events if e.kind is AcdEventKind.CALL_TRANSFERRED]
    assert transferred[0].target == "+4688" and transferred[0].reason == "left"


def test_consulted_colleague_leaves_the_three_way() -> None:
    engine = talking_engine()
    engine.consult_start("c1", 3.0, to_agent="a2")
    engine.consult_answered("c1", 4.0)
    engine.conference("c1", 5.0)
    engine.leave_conference("c1", "a2", 6.0)
    assert engine.agent("a2").state is AgentState.READY and engine.call("c1").consult is None
    assert [k[1] for k in kinds(engine)] == ["ringing", "talking", "conference", "ended"]


def test_customer_hanging_up_ends_the_consultation_too() -> None:
    engine = talking_engine()
    engine.consult_start("c1", 3.0, to_agent="a2")
    engine.call_ended("c1", 4.0)
    assert engine.agent("a2").state is AgentState.READY
    assert engine.agent("a1").state is AgentState.WRAP_UP


def test_held_wrap_up_waits_for_the_codes() -> None:
    engine = talking_engine()
    engine.call_ended("c1", 3.0)
    engine.hold_wrap_up("a1", True, 3.0)
    engine.tick(100.0)
    assert engine.agent("a1").state is AgentState.WRAP_UP
    engine.hold_wrap_up("a1", False, 101.0)
    assert engine.agent("a1").state is AgentState.READY


def test_a_queue_that_requires_codes_holds_wrap_up_and_refuses_ready_until_given() -> None:
    engine = engine_with([QueueConfig("q", wrap_up_s=0.0, wrap_up_codes_required=True)],
                         [agent("a1", "201")], {"a1": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    engine.route(1.0)
    engine.call_answered("c1", "a1", 2.0)
    engine.call_ended("c1", 3.0)
    assert engine.agent("a1").state is AgentState.WRAP_UP
    with pytest.raises(InvalidTransition):
        engine.set_ready("a1", 4.0)
    engine.pause("a1", "lunch", 4.0)  # noted: starts after the codes
    engine.hold_wrap_up("a1", False, 5.0)
    assert engine.agent("a1").state is AgentState.PAUSED and engine.agent("a1").pause_reason == "lunch"
