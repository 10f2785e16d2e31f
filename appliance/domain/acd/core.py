"""The engine's internals: its state and the transitions every public operation is built from.

`AcdEngine` (engine.py) is the public face; this base class keeps the bookkeeping in one place: agent state
changes with the routing index's counters, calls entering and leaving line, overflow, offers, wrap-up.
"""
from __future__ import annotations

import heapq
import itertools
from typing import Iterable

from appliance.domain.acd.agents import Agent, AgentGroup, AgentState, ReadinessMode, mask_number
from appliance.domain.acd.calls import WAITING_STATES, Call, CallState
from appliance.domain.acd.decisions import Decision, DecisionAction, Offer, Trigger
from appliance.domain.acd.errors import AcdConfigError, InvalidTransition
from appliance.domain.acd.events import AcdEvent, AcdEventKind
from appliance.domain.acd.index import RoutingIndex
from appliance.domain.acd.overflow import (LOSS_FOR_WHEN, RULE_FOR_WHEN, no_agents_rule, nobody_logged_in,
                                           rule_on_arrival, wait_rules)
from appliance.domain.acd.queues import OverflowRule, QueueConfig
from appliance.domain.acd.routing import Match
from appliance.domain.acd.stats import QueueStats
from appliance.domain.acd.strategies import call_key

DEFAULT_PAUSE_REASONS = frozenset({"short_break", "lunch", "meeting", "training", "admin", "no_answer"})
DEFAULT_HANDLE_S = 180.0
HISTORY_LIMIT = 100_000

# timer kinds
T_WRAP, T_OFFER, T_WAIT = 0, 1, 2
_E = AcdEventKind
_OUT, _READY, _PAUSED = AgentState.LOGGED_OUT, AgentState.READY, AgentState.PAUSED
_RESERVED = AgentState.RESERVED
_INBOUND = ReadinessMode.INBOUND


class EngineCore:
    """State and internal transitions shared by the public engine methods."""

    def __init__(self, pause_reasons: Iterable[str] = DEFAULT_PAUSE_REASONS,
                 default_handle_s: float = DEFAULT_HANDLE_S, history_limit: int = HISTORY_LIMIT) -> None:
        self.pause_reasons = frozenset(pause_reasons)
        self.default_handle_s = default_handle_s
        self._history_limit = history_limit
        self._agents: dict[str, Agent] = {}
        self._queues: dict[str, QueueConfig] = {}
        self._groups: dict[str, AgentGroup] = {}
        self._calls: dict[str, Call] = {}
        self._waiting: dict[str, dict[str, Call]] = {}
        self._stats: dict[str, QueueStats] = {}
        self._index = RoutingIndex(self._agents)
        self._pending_calls: list[Call] = []
        self._pending_agents: list[Agent] = []
        self._decisions: list[Decision] = []
        self._events: list[AcdEvent] = []
        self._timers: list[tuple] = []
        self._history: dict[str, tuple[str, float]] = {}
        self._call_seq = itertools.count()
        self._timer_seq = itertools.count()

    def _check_reason(self, reason: str) -> None:
        if reason not in self.pause_reasons:
            raise AcdConfigError(f"pause reason {reason!r} is not one of {sorted(self.pause_reasons)}")

    def _change(self, agent: Agent, now: float, state: AgentState, mode: ReadinessMode | None = None,
                reason: str | None = None) -> None:
        """Every agent state change goes through here so the index counters stay right."""
        old = agent.state
        was_working = old is not _OUT and old is not _PAUSED and agent.mode is _INBOUND
        agent.state = state
        if mode is not None:
            agent.mode = mode
        agent.state_since = now
        paused = state is _PAUSED
        agent.pause_reason = reason if paused else None
        if (old is _OUT) != (state is _OUT):
            self._index.count_login(agent, -1 if state is _OUT else 1)
        working = state is not _OUT and not paused and agent.mode is _INBOUND
        if working != was_working:
            self._index.count_working(agent, 1 if working else -1)
        if state is _READY and agent.mode is _INBOUND:
            agent.epoch += 1
            self._pending_agents.append(agent)
        # the state members are str subclasses, so the event carries plain strings
        self._events.append(AcdEvent(_E.AGENT_STATE, now, None, agent.id, None, state, agent.pause_reason))

    def _after_logout(self, agent: Agent, now: float) -> None:
        # B8 overflow "no agents logged in": the last able agent leaving sends the waiting calls on
        for seg in agent.segments:
            if seg.logged_in == 0 and seg.n_calls:
                for call in [e[4] for e in seg.calls if e[4].version == e[3] and e[4].state is CallState.QUEUED]:
                    rules_queue = self._queues[call.queue_ids[0]]
                    rule = no_agents_rule(rules_queue)
                    if rule is not None and call.state is CallState.QUEUED and nobody_logged_in(call.segments):
                        self._overflow(call, rule, now)

    def _admit(self, call: Call, queue: QueueConfig, now: float) -> None:
        call.seq = next(self._call_seq)
        self._calls[call.id] = call
        self._stats[queue.id].arrived += 1
        self._events.append(AcdEvent(_E.CALL_QUEUED, now, call_id=call.id, queue_id=queue.id))
        self._place(call, queue, now, 0)

    def _place(self, call: Call, queue: QueueConfig, now: float, hops: int) -> None:
        """Put a waiting call into a queue, unless an overflow rule sends it on at once."""
        seg = self._index.segment(queue, call.language, call.required_skill, call.required_level)
        call.queue_ids = (queue.id,)
        # not in any heap until pushed below, so an overflow on arrival has nothing to take out
        call.segments = []
        call.queue_entered_at = now
        call.queue_epoch += 1
        call.version += 1
        if not call.is_callback:
            rule = rule_on_arrival(queue, [seg], len(self._waiting[queue.id]), now)
            if rule is not None:
                self._overflow(call, rule, now, hops)
                return
        call.segments = [seg]
        self._index.push_call(seg, call)
        self._waiting[queue.id][call.id] = call
        if not call.is_callback:
            self._arm_wait_rules(call, queue, now)
        self._pending_calls.append(call)

    def _arm_wait_rules(self, call: Call, queue: QueueConfig, now: float) -> None:
        for position, rule in wait_rules(queue):
            deadline = max(now, call.queue_entered_at + rule.threshold)
            heapq.heappush(self._timers, (deadline, next(self._timer_seq), T_WAIT, call, call.queue_epoch,
                                          position))

    def _leave_waiting(self, call: Call) -> None:
        if call.state in WAITING_STATES:
            for seg in call.segments:
                seg.n_calls -= 1
            for queue_id in call.queue_ids:
                self._waiting[queue_id].pop(call.id, None)
        call.version += 1

    def _back_in_line(self, call: Call, now: float) -> None:
        """An unanswered offer returns the call to its original place (same key, same seq)."""
        call.state = CallState.CALLBACK_REQUESTED if call.is_callback else CallState.QUEUED
        call.version += 1
        call.offered_to = ()
        call.serving_queue_id = None
        for seg in call.segments:
            self._index.push_call(seg, call)
        for queue_id in call.queue_ids:
            self._waiting[queue_id][call.id] = call
        if not call.is_callback:
            self._arm_wait_rules(call, self._queues[call.queue_ids[0]], now)
        self._pending_calls.append(call)
        self._events.append(AcdEvent(_E.CALL_REQUEUED, now, call_id=call.id, queue_id=call.queue_id))

    def _overflow(self, call: Call, rule: OverflowRule, now: float, hops: int = 0) -> None:
        home = call.queue_id
        assert home is not None
        target = self._queues.get(rule.to_queue) if rule.to_queue is not None else None
        if target is not None and hops <= len(self._queues):
            self._events.append(AcdEvent(_E.CALL_OVERFLOWED, now, call_id=call.id, queue_id=call.queue_ids[0],
                                         target=target.id, reason=rule.when.value))
            if rule.keep_searching and call.state in WAITING_STATES:
                if target.id not in call.queue_ids:
                    seg = self._index.segment(target, call.language, call.required_skill, call.required_level)
                    call.queue_ids += (target.id,)
                    call.segments.append(seg)
                    self._index.push_call(seg, call)
                    self._waiting[target.id][call.id] = call
                    self._pending_calls.append(call)
                return
            self._leave_waiting(call)
            call.state = CallState.QUEUED
            self._place(call, target, now, hops + 1)
            return
        # out of the ACD: to an external number, or given up (a loss) when there is no usable target
        self._leave_waiting(call)
        redirect = rule.to_number is not None
        call.loss = None if redirect else LOSS_FOR_WHEN[rule.when]
        call.outcome_target = rule.to_number
        self._stats[home].record_overflow_out(call.loss)
        self._decisions.append(Decision(
            DecisionAction.REDIRECT if redirect else DecisionAction.DISCONNECT, call.id, call.queue_ids[0], now,
            Trigger.QUEUE_STATE, RULE_FOR_WHEN[rule.when], target=rule.to_number, is_callback=call.is_callback))
        self._events.append(AcdEvent(_E.CALL_OVERFLOWED, now, call_id=call.id, queue_id=call.queue_ids[0],
                                     target=rule.to_number, reason=rule.when.value))
        self._finish(call, CallState.OVERFLOWED, now)

    def _finish(self, call: Call, state: CallState, now: float) -> None:
        call.state = state
        call.version += 1
        call.queue_epoch += 1
        call.ended_at = now
        del self._calls[call.id]

    def _pending_call_key(self, call: Call) -> tuple:
        queue = self._queues[call.queue_ids[0]] if call.queue_ids else self._queues[call.queue_id]
        return (-queue.rank, *call_key(queue, call), call.seq)

    def _offer(self, match: Match, now: float) -> None:
        call = match.call
        queue = match.segment.queue
        self._leave_waiting(call)
        call.state = CallState.OFFERED
        call.offered_at = now
        call.serving_queue_id = queue_id = queue.id
        events = self._events
        offers = []
        for agent in match.agents:
            # every matched agent is READY for inbound work, so this is _change(agent, now, RESERVED) without
            # the parts that cannot apply (login and working counts stay, no new availability epoch)
            agent.call_id = call.id
            agent.state = _RESERVED
            agent.state_since = now
            agent.pause_reason = None
            events.append(AcdEvent(_E.AGENT_STATE, now, None, agent.id, None, _RESERVED, None))
            shown = self._display(call, agent) if agent.groups else (call.callback_number or call.caller)
            offers.append(Offer(agent.id, agent.extension, shown))
            events.append(AcdEvent(_E.CALL_OFFERED, now, call.id, agent.id, queue_id))
        call.offered_to = tuple([offer.agent_id for offer in offers]) if len(offers) > 1 else (offers[0].agent_id,)
        if queue.offer_timeout_s > 0:
            heapq.heappush(self._timers, (now + queue.offer_timeout_s, next(self._timer_seq), T_OFFER, call,
                                          call.version, 0))
        self._decisions.append(Decision(DecisionAction.OFFER, call.id, queue_id, now, match.trigger, match.rule,
                                        tuple(offers), (), match.score_fields, None, call.callback_number is not None,
                                        match.why))

    def _display(self, call: Call, agent: Agent) -> str:
        # B19 (启通宝 §5.2 "可针对座席组设置是否对来电号码进行隐藏"): hidden per agent group
        number = call.callback_number if call.is_callback else call.caller
        for group_id in agent.groups:
            group = self._groups.get(group_id)
            if group is not None and group.hide_caller_number:
                return mask_number(number or "", group.keep_last_digits)
        return number or ""

    def _offered_pair(self, call_id: str, agent_id: str) -> tuple[Call, Agent]:
        call = self.call(call_id)
        agent = self.agent(agent_id)
        if call.state is not CallState.OFFERED or agent_id not in call.offered_to:
            raise InvalidTransition(f"call {call_id!r} is not being offered to agent {agent_id!r}")
        return call, agent

    def _release(self, agent: Agent, now: float, pause_reason: str | None) -> None:
        """An agent's offer is over without a conversation: back to ready, or paused."""
        agent.call_id = None
        reason = agent.pending_pause or pause_reason
        agent.pending_pause = None
        if reason is not None:
            self._change(agent, now, AgentState.PAUSED, reason=reason)
        else:
            self._change(agent, now, AgentState.READY)

    def _withdraw_from(self, agent: Agent, call: Call, now: float) -> None:
        call.offered_to = tuple(a for a in call.offered_to if a != agent.id)
        agent.call_id = None
        self._events.append(AcdEvent(_E.OFFER_WITHDRAWN, now, call_id=call.id, agent_id=agent.id))
        if not call.offered_to:
            self._back_in_line(call, now)

    def _after_conversation(self, call: Call, now: float) -> None:
        agent = self._agents.get(call.agent_id or "")
        queue = self._queues.get(call.serving_queue_id or "")
        if call.caller and agent is not None:
            history = self._history
            history.pop(call.caller, None)
            history[call.caller] = (agent.id, now)
            if len(history) > self._history_limit:
                del history[next(iter(history))]
        if agent is None:
            return
        agent.call_id = None
        agent.last_call_ended = agent.idle_since = now
        wrap = agent.wrap_up_s if agent.wrap_up_s is not None else (queue.wrap_up_s if queue else 0.0)
        handle = now - (call.answered_at or now) + wrap
        self._stats[call.queue_id].record_handle(handle)
        if wrap > 0:
            agent.wrap_until = now + wrap
            self._change(agent, now, AgentState.WRAP_UP)
            heapq.heappush(self._timers, (agent.wrap_until, next(self._timer_seq), T_WRAP, agent, 0, 0))
        else:
            self._end_wrap(agent, now)

    def _end_wrap(self, agent: Agent, now: float) -> None:
        agent.wrap_until = None
        if agent.pending_pause is not None:
            reason, agent.pending_pause = agent.pending_pause, None
            self._change(agent, now, AgentState.PAUSED, reason=reason)
        elif agent.auto_ready and not agent.wrap_hold:
            self._change(agent, now, AgentState.READY)
        elif agent.state is not AgentState.WRAP_UP:
            self._change(agent, now, AgentState.WRAP_UP)

    @staticmethod
    def _timer_live(entry: tuple) -> bool:
        deadline, _, kind, obj, version, _ = entry
        if kind == T_WRAP:
            return obj.state is AgentState.WRAP_UP and obj.wrap_until == deadline
        if kind == T_OFFER:
            return obj.version == version and obj.state is CallState.OFFERED
        return obj.queue_epoch == version and obj.state in (CallState.QUEUED, CallState.OFFERED)

    def _offer_timed_out(self, call: Call, now: float) -> None:
        queue = self._queues[call.serving_queue_id]
        for agent_id in call.offered_to:
            self._release(self._agents[agent_id], now, queue.no_answer_pause)
            self._events.append(AcdEvent(_E.OFFER_WITHDRAWN, now, call_id=call.id, agent_id=agent_id))
        self._back_in_line(call, now)
