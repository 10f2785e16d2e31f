"""The engine as the PBX bridge and the desk will use it: routing rules, agent states, call lifecycle."""
from __future__ import annotations

import json

import pytest

from appliance.domain.acd import (AcdConfigError, AcdEventKind, AgentGroup, AgentState, CallState, DecisionAction,
                                  InvalidTransition, LossType, PriorityMode, QueueConfig, ReadinessMode, Rule,
                                  Strategy, Trigger, UnknownCall)
from tests.domain.acd.helpers import agent, engine_with, new_call, offer_of


def test_longest_idle_agent_gets_the_call_and_the_decision_says_why() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "101"), agent("b", "102"), agent("c", "103")],
                         {"b": 5.0, "a": 10.0, "c": 20.0})
    engine.enqueue(new_call("c1", caller="+46812345"), "q", 30.0)
    decision = offer_of(engine.route(30.0), "c1")
    assert decision.action is DecisionAction.OFFER
    assert decision.agent_ids == ("b",)
    assert decision.trigger is Trigger.CALL_WAITING
    assert decision.rule is Rule.LONGEST_IDLE
    assert decision.score_fields == ("idle_since",)
    assert [(c.id, c.score, c.picked) for c in decision.candidates] == [("b", (5.0,), True), ("a", (10.0,), False)]
    assert decision.offers[0].extension == "102"
    json.dumps(decision.to_data())  # plain data for the UI


def test_idle_time_counts_from_the_last_call_end() -> None:
    engine = engine_with([QueueConfig("q", offer_timeout_s=0)], [agent("a", "1"), agent("b", "2")],
                         {"a": 0.0, "b": 1.0})
    engine.enqueue(new_call("c1"), "q", 2.0)
    assert offer_of(engine.route(2.0), "c1").agent_ids == ("a",)
    engine.call_answered("c1", "a", 3.0)
    engine.call_ended("c1", 4.0)
    engine.route(4.0)
    engine.enqueue(new_call("c2"), "q", 5.0)
    # b has been idle since 1.0, a only since its call ended at 4.0
    assert offer_of(engine.route(5.0), "c2").agent_ids == ("b",)
    assert engine.agent("a").last_call_ended == 4.0 and engine.agent("a").calls_taken == 1


def test_fewest_calls_spreads_work_fairly() -> None:
    engine = engine_with([QueueConfig("q", strategy=Strategy.FEWEST_CALLS, offer_timeout_s=0)],
                         [agent("a", "1"), agent("b", "2")], {"a": 0.0, "b": 50.0})
    engine.agent("a").calls_taken = 0
    engine.agent("b").calls_taken = 0
    for i, t in enumerate([100.0, 110.0, 120.0, 130.0]):
        engine.enqueue(new_call(f"c{i}"), "q", t)
        d = offer_of(engine.route(t), f"c{i}")
        engine.call_answered(f"c{i}", d.agent_ids[0], t)
        engine.call_ended(f"c{i}", t + 1)
        engine.route(t + 1)
    assert engine.agent("a").calls_taken == engine.agent("b").calls_taken == 2


def test_skill_weighted_prefers_the_higher_level_and_honours_the_minimum() -> None:
    queue = QueueConfig("q", skills={"billing": 3}, strategy=Strategy.SKILL_WEIGHTED)
    agents = [agent("low", "1", skills={"billing": 2}), agent("mid", "2", skills={"billing": 5}),
              agent("top", "3", skills={"billing": 9})]
    engine = engine_with([queue], agents, {"low": 0.0, "top": 5.0, "mid": 1.0})
    engine.enqueue(new_call("c1"), "q", 10.0)
    d = offer_of(engine.route(10.0), "c1")
    assert d.agent_ids == ("top",) and d.rule is Rule.SKILL_WEIGHTED
    assert d.candidates[0].score == (9, 5.0) and d.candidates[1].id == "mid"
    engine.enqueue(new_call("c2"), "q", 11.0)
    assert offer_of(engine.route(11.0), "c2").agent_ids == ("mid",)
    engine.enqueue(new_call("c3"), "q", 12.0)
    assert engine.route(12.0) == []  # "low" is below the minimum level 3
    assert engine.call("c3").state is CallState.QUEUED


def test_ring_all_offers_to_every_free_agent_and_the_first_answer_wins() -> None:
    engine = engine_with([QueueConfig("q", strategy=Strategy.RING_ALL)],
                         [agent("a", "1"), agent("b", "2"), agent("c", "3")], {"a": 0.0, "b": 0.0, "c": 0.0})
    engine.pause("c", "lunch", 1.0)
    engine.enqueue(new_call("c1"), "q", 2.0)
    d = offer_of(engine.route(2.0), "c1")
    assert set(d.agent_ids) == {"a", "b"} and d.rule is Rule.RING_ALL
    engine.drain_events()
    engine.call_answered("c1", "b", 3.0)
    assert engine.agent("a").state is AgentState.READY and engine.agent("b").state is AgentState.BUSY
    kinds = [e.kind for e in engine.drain_events()]
    assert AcdEventKind.OFFER_WITHDRAWN in kinds and AcdEventKind.CALL_ANSWERED in kinds


def test_ring_all_call_returns_only_when_every_ringing_agent_declined() -> None:
    engine = engine_with([QueueConfig("q", strategy=Strategy.RING_ALL, no_answer_pause=None)],
                         [agent("a", "1"), agent("b", "2")], {"a": 0.0, "b": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    engine.route(1.0)
    engine.offer_result("c1", "a", False, 2.0)
    assert engine.call("c1").state is CallState.OFFERED and engine.call("c1").offered_to == ("b",)
    engine.offer_result("c1", "b", False, 2.0)
    # both declined (and are ready again): back in line, and straight out again to both
    d = offer_of(engine.route(2.0), "c1")
    assert set(d.agent_ids) == {"a", "b"}


def test_previous_agent_within_the_window_is_preferred_then_the_fallback() -> None:
    queue = QueueConfig("q", strategy=Strategy.PREVIOUS_AGENT, previous_agent_window_s=100.0,
                        fallback=Strategy.LONGEST_IDLE)
    engine = engine_with([queue], [agent("a", "1"), agent("b", "2")], {"a": 0.0, "b": 1.0})
    engine.enqueue(new_call("c1", caller="0701234567"), "q", 10.0)
    assert offer_of(engine.route(10.0), "c1").agent_ids == ("a",)
    engine.call_answered("c1", "a", 11.0)
    engine.call_ended("c1", 20.0)
    engine.route(20.0)
    # the same caller again: b has been idle longer, but a spoke to this caller 30 s ago
    engine.enqueue(new_call("c2", caller="0701234567"), "q", 50.0)
    d = offer_of(engine.route(50.0), "c2")
    assert d.agent_ids == ("a",) and d.rule is Rule.PREVIOUS_AGENT
    assert [c.id for c in d.candidates] == ["a", "b"]
    engine.offer_result("c2", "a", True, 51.0)
    engine.call_ended("c2", 60.0)
    engine.route(60.0)
    # outside the window the fallback (longest idle) decides
    engine.enqueue(new_call("c3", caller="0701234567"), "q", 500.0)
    d = offer_of(engine.route(500.0), "c3")
    assert d.agent_ids == ("b",) and d.rule is Rule.LONGEST_IDLE


def test_absolute_priority_goes_first_and_a_free_agent_takes_the_first_in_line() -> None:
    engine = engine_with([QueueConfig("q", offer_timeout_s=0)], [agent("a", "1")], {"a": 0.0})
    engine.pause("a", "meeting", 1.0)
    engine.enqueue(new_call("old"), "q", 10.0)
    engine.enqueue(new_call("vip", priority=2), "q", 20.0)
    engine.enqueue(new_call("new"), "q", 30.0)
    assert engine.route(30.0) == []
    assert [c.id for c in engine.waiting_calls("q")] == ["vip", "old", "new"]
    engine.set_ready("a", 40.0)
    d = offer_of(engine.route(40.0), "vip")
    assert d.trigger is Trigger.AGENT_FREE and d.rule is Rule.FIRST_IN_LINE
    assert d.score_fields == ("queue_rank", "priority", "effective_enqueued_at")


def test_weighted_priority_raises_the_effective_wait() -> None:
    queue = QueueConfig("q", priority_mode=PriorityMode.WEIGHTED, priority_weight_s=30.0)
    engine = engine_with([queue], [agent("a", "1")])
    engine.enqueue(new_call("old"), "q", 0.0)
    engine.enqueue(new_call("urgent", priority=1), "q", 20.0)  # effective 20 − 30 = −10: ahead of "old"
    engine.enqueue(new_call("fresh", priority=1), "q", 50.0)  # effective 20: behind "old" (0)
    assert [c.id for c in engine.waiting_calls("q")] == ["urgent", "old", "fresh"]


def test_queue_rank_decides_between_queues_sharing_an_agent() -> None:
    engine = engine_with([QueueConfig("low", rank=0), QueueConfig("high", rank=5)], [agent("a", "1")])
    engine.enqueue(new_call("c-low"), "low", 0.0)
    engine.enqueue(new_call("c-high"), "high", 100.0)
    assert engine.route(100.0) == []
    engine.agent_login("a", 200.0)
    d = offer_of(engine.route(200.0), "c-high")
    assert {c.id for c in d.candidates} == {"c-low", "c-high"}
    assert [c.picked for c in d.candidates if c.id == "c-high"] == [True]


def test_members_language_and_extra_skill_restrict_who_may_answer() -> None:
    queue = QueueConfig("q", members=frozenset({"a", "b", "c"}))
    agents = [agent("a", "1", languages={"sv"}), agent("b", "2", languages={"en"}, skills={"vip": 4}),
              agent("c", "3", languages={"sv"}, skills={"vip": 7}), agent("x", "4", languages={"sv", "en"})]
    engine = engine_with([queue], agents, {"x": 0.0, "a": 1.0, "b": 2.0, "c": 3.0})
    engine.enqueue(new_call("en", language="en"), "q", 10.0)
    assert offer_of(engine.route(10.0), "en").agent_ids == ("b",)  # x speaks English but is not a member
    engine.enqueue(new_call("vip", required_skill="vip", required_level=5), "q", 11.0)
    assert offer_of(engine.route(11.0), "vip").agent_ids == ("c",)
    engine.enqueue(new_call("plain"), "q", 12.0)
    assert offer_of(engine.route(12.0), "plain").agent_ids == ("a",)


def test_only_inbound_ready_agents_get_offers() -> None:
    engine = engine_with([QueueConfig("q")], [agent("in", "1"), agent("out", "2"), agent("bo", "3")])
    engine.agent_login("out", 0.0, mode=ReadinessMode.OUTBOUND)
    engine.agent_login("bo", 0.0, mode=ReadinessMode.BACK_OFFICE)
    engine.agent_login("in", 5.0, pause_reason="short_break")
    engine.enqueue(new_call("c1"), "q", 10.0)
    assert engine.route(10.0) == []
    assert engine.staffing("q") == (3, 0, 0)
    engine.set_mode("out", ReadinessMode.INBOUND, 11.0)
    assert offer_of(engine.route(11.0), "c1").agent_ids == ("out",)


def test_pause_reasons_come_from_the_configured_set() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "1")], {"a": 0.0}, pause_reasons={"lunch"})
    with pytest.raises(AcdConfigError):
        engine.pause("a", "coffee", 1.0)
    engine.pause("a", "lunch", 1.0)
    assert engine.agent("a").state is AgentState.PAUSED and engine.agent("a").pause_reason == "lunch"


def test_wrap_up_then_auto_ready_and_a_pause_asked_for_during_the_call() -> None:
    engine = engine_with([QueueConfig("q", wrap_up_s=30.0)], [agent("a", "1"), agent("m", "2", auto_ready=False)],
                         {"a": 0.0, "m": 1.0})
    engine.enqueue(new_call("c1"), "q", 5.0)
    engine.enqueue(new_call("c2"), "q", 5.0)
    engine.route(5.0)
    engine.call_answered("c1", "a", 6.0)
    engine.call_answered("c2", "m", 6.0)
    engine.pause("a", "lunch", 7.0)  # on a call: takes effect when the call and wrap-up end
    assert engine.agent("a").state is AgentState.BUSY
    engine.call_ended("c1", 10.0)
    engine.call_ended("c2", 10.0)
    assert engine.agent("a").state is AgentState.WRAP_UP and engine.next_deadline() == 40.0
    engine.tick(39.9)
    assert engine.agent("a").state is AgentState.WRAP_UP
    engine.tick(40.0)
    assert engine.agent("a").state is AgentState.PAUSED and engine.agent("a").pause_reason == "lunch"
    assert engine.agent("m").state is AgentState.WRAP_UP  # no auto-ready: stays until the agent says so
    engine.set_ready("m", 50.0)
    assert engine.agent("m").state is AgentState.READY


def test_agent_wrap_up_override_and_no_wrap_up_means_ready_at_once() -> None:
    engine = engine_with([QueueConfig("q", wrap_up_s=30.0)], [agent("a", "1", wrap_up_s=0.0)], {"a": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    engine.route(1.0)
    engine.call_answered("c1", "a", 2.0)
    engine.call_ended("c1", 3.0)
    assert engine.agent("a").state is AgentState.READY


def test_unanswered_offer_times_out_back_to_its_place_and_the_agent_is_paused() -> None:
    engine = engine_with([QueueConfig("q", offer_timeout_s=15.0)], [agent("a", "1")], {"a": 0.0})
    engine.enqueue(new_call("first"), "q", 1.0)
    engine.route(1.0)
    engine.enqueue(new_call("second"), "q", 2.0)
    engine.route(2.0)
    assert engine.next_deadline() == 16.0
    engine.tick(16.0)
    assert engine.agent("a").state is AgentState.PAUSED and engine.agent("a").pause_reason == "no_answer"
    # back at the head of the line (original enqueue time), ahead of "second"
    assert [c.id for c in engine.waiting_calls("q")] == ["first", "second"]
    assert engine.call("first").enqueued_at == 1.0
    events = engine.drain_events()
    assert any(e.kind is AcdEventKind.CALL_REQUEUED and e.call_id == "first" for e in events)


def test_declined_offer_goes_back_in_line_and_another_agent_gets_it() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "1"), agent("b", "2")], {"a": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    engine.route(1.0)
    engine.agent_login("b", 2.0)
    engine.route(2.0)
    engine.offer_result("c1", "a", False, 3.0)
    d = offer_of(engine.route(3.0), "c1")
    assert d.agent_ids == ("b",)
    assert engine.agent("a").state is AgentState.PAUSED


def test_abandon_in_queue_and_while_ringing_are_told_apart() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "1")], {"a": 0.0})
    engine.enqueue(new_call("ringing"), "q", 1.0)
    engine.enqueue(new_call("waiting"), "q", 2.0)
    engine.route(2.0)
    engine.abandon("waiting", 12.0)
    engine.abandon("ringing", 22.0)
    assert engine.agent("a").state is AgentState.READY
    stats = engine.stats("q")
    assert stats.lost[LossType.ABANDONED_IN_QUEUE] == 1 and stats.lost[LossType.ABANDONED_RINGING] == 1
    assert stats.tolerance[1] == 1 and stats.tolerance[2] == 1  # waited 10 s and 21 s
    with pytest.raises(UnknownCall):
        engine.call("waiting")


def test_callback_keeps_its_place_and_is_offered_as_a_callback() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "1")])
    engine.enqueue(new_call("c1", caller="0701111111"), "q", 10.0)
    engine.enqueue(new_call("c2"), "q", 20.0)
    engine.request_callback("c1", "0702222222", 30.0)
    engine.enqueue_callback(new_call("web"), "q", "0703333333", 40.0, enqueued_at=5.0)
    assert [c.id for c in engine.waiting_calls("q")] == ["web", "c1", "c2"]
    engine.agent_login("a", 50.0)
    d = offer_of(engine.route(50.0), "web")
    assert d.is_callback and d.offers[0].caller_display == "0703333333"
    assert engine.stats("q").callbacks_requested == 2


def test_transfer_to_a_queue_queues_anew_and_to_a_number_ends_the_call() -> None:
    engine = engine_with([QueueConfig("q"), QueueConfig("tech", skills={"tech": 1})],
                         [agent("a", "1"), agent("t", "2", skills={"tech": 3})], {"a": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    engine.route(1.0)
    engine.call_answered("c1", "a", 2.0)
    engine.transfer("c1", 10.0, to_queue="tech")
    assert engine.call("c1").state is CallState.QUEUED and engine.call("c1").queue_id == "tech"
    engine.agent_login("t", 11.0)
    engine.call_answered("c1", offer_of(engine.route(11.0), "c1").agent_ids[0], 12.0)
    engine.transfer("c1", 20.0, to_number="+4687654321")
    with pytest.raises(UnknownCall):
        engine.call("c1")
    kinds = [e.kind for e in engine.drain_events() if e.call_id == "c1"]
    assert kinds.count(AcdEventKind.CALL_TRANSFERRED) == 2


def test_caller_number_is_hidden_for_agents_in_hiding_groups() -> None:
    engine = engine_with([QueueConfig("q", strategy=Strategy.RING_ALL)],
                         [agent("open", "1", groups={"sales"}), agent("hidden", "2", groups={"outsourced"})],
                         {"open": 0.0, "hidden": 0.0})
    engine.add_group(AgentGroup("outsourced", hide_caller_number=True, keep_last_digits=2))
    engine.add_group(AgentGroup("sales"))
    engine.enqueue(new_call("c1", caller="+46701234567"), "q", 1.0)
    shown = {o.agent_id: o.caller_display for o in offer_of(engine.route(1.0), "c1").offers}
    assert shown == {"open": "+46701234567", "hidden": "+*********67"}


def test_logout_while_ringing_returns_the_call_and_busy_agents_cannot_log_out() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "1"), agent("b", "2")], {"a": 0.0, "b": 1.0})
    engine.enqueue(new_call("c1"), "q", 2.0)
    engine.enqueue(new_call("c2"), "q", 2.0)
    engine.route(2.0)
    engine.call_answered("c2", "b", 3.0)
    with pytest.raises(InvalidTransition):
        engine.agent_logout("b", 4.0)
    engine.agent_logout("a", 4.0)
    assert engine.call("c1").state is CallState.QUEUED
    assert engine.agent("a").state is AgentState.LOGGED_OUT


def test_wrong_transitions_are_refused() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "1"), agent("b", "2")], {"a": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    engine.route(1.0)
    with pytest.raises(InvalidTransition):
        engine.call_answered("c1", "b", 2.0)  # not offered to b
    with pytest.raises(InvalidTransition):
        engine.call_ended("c1", 2.0)  # not connected
    with pytest.raises(InvalidTransition):
        engine.enqueue(new_call("c1"), "q", 2.0)  # id already live
    with pytest.raises(InvalidTransition):
        engine.agent_login("a", 2.0)
    with pytest.raises(InvalidTransition):
        engine.pause("b", "lunch", 2.0)  # logged out
    engine.call_answered("c1", "a", 2.0)
    with pytest.raises(InvalidTransition):
        engine.abandon("c1", 3.0)


def test_live_reconfiguration_of_skills_and_queues() -> None:
    engine = engine_with([QueueConfig("q", skills={"fr": 5})], [agent("a", "1", skills={"fr": 3})], {"a": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    assert engine.route(1.0) == []
    engine.update_agent("a", skills={"fr": 6})
    assert offer_of(engine.route(2.0), "c1").agent_ids == ("a",)
    engine.enqueue(new_call("c2"), "q", 3.0)
    engine.add_queue(QueueConfig("q", skills={"fr": 5}, members=frozenset({"nobody"})))
    engine.offer_result("c1", "a", True, 4.0)
    engine.call_ended("c1", 5.0)
    assert engine.route(5.0) == []  # a is no longer a member
    engine.add_queue(QueueConfig("q", skills={"fr": 5}))
    assert offer_of(engine.route(6.0), "c2").agent_ids == ("a",)


def test_events_are_typed_and_carry_plain_data() -> None:
    engine = engine_with([QueueConfig("q")], [agent("a", "1")], {"a": 0.0})
    engine.enqueue(new_call("c1"), "q", 1.0)
    engine.route(1.0)
    events = engine.drain_events()
    assert all(isinstance(e.kind, AcdEventKind) for e in events)
    data = [e.to_data() for e in events]
    assert json.loads(json.dumps(data))[0] == {"kind": "agent.state", "at": 0.0, "agent_id": "a", "state": "ready"}
    assert engine.drain_events() == []


def test_same_batch_fairness_old_calls_first_and_longest_idle_agent_for_new_calls() -> None:
    engine = engine_with([QueueConfig("q", offer_timeout_s=0)], [agent("a", "1"), agent("b", "2")], {"a": 0.0})
    engine.enqueue(new_call("talking"), "q", 1.0)
    engine.route(1.0)
    engine.call_answered("talking", "a", 1.0)
    engine.enqueue(new_call("old"), "q", 2.0)
    engine.route(2.0)
    # in one batch: a's call ends and a new call arrives; a must take "old", not the newcomer
    engine.call_ended("talking", 10.0)
    engine.enqueue(new_call("new"), "q", 10.0)
    assert [(d.call_id, d.agent_ids) for d in engine.route(10.0)] == [("old", ("a",))]
    # b has been free since 20; in one batch a becomes free (at 30) and a call arrives: b, idle longer, gets it
    engine.agent_login("b", 20.0)
    engine.route(20.0)
    assert engine.call("new").offered_to == ("b",)
    engine.call_answered("new", "b", 21.0)
    engine.call_answered("old", "a", 21.0)
    engine.call_ended("new", 25.0)
    engine.route(25.0)
    engine.call_ended("old", 30.0)
    engine.enqueue(new_call("newest"), "q", 30.0)
    d = offer_of(engine.route(30.0), "newest")
    assert d.agent_ids == ("b",) and d.trigger is Trigger.CALL_WAITING


def test_the_explanation_read_later_shows_the_scores_at_decision_time() -> None:
    # candidates are built on first use; what happened since must not leak into them
    engine = engine_with([QueueConfig("q", offer_timeout_s=0)], [agent("a", "101"), agent("b", "102")],
                         {"a": 5.0, "b": 10.0})
    engine.enqueue(new_call("c1"), "q", 20.0)
    decision = offer_of(engine.route(20.0), "c1")
    engine.call_answered("c1", "a", 21.0)
    engine.call_ended("c1", 30.0)
    engine.enqueue(new_call("c2"), "q", 31.0)
    engine.enqueue(new_call("c3"), "q", 31.0)
    later = engine.route(31.0)
    assert [(c.id, c.score, c.picked) for c in decision.candidates] == [("a", (5.0,), True), ("b", (10.0,), False)]
    # b (idle since 10) is now ahead of a (idle since its call ended at 30)
    assert [d.agent_ids for d in later] == [("b",), ("a",)]
    assert [(c.id, c.score) for c in later[0].candidates] == [("b", (10.0,)), ("a", (30.0,))]
