"""The ACD engine: agents, queues and calls in one state machine; routing decisions with their reasons.

Pure: time comes in as a number of seconds (any epoch, the same clock throughout), nothing here sleeps,
reads a clock or does I/O. A driver (the PBX bridge, the simulator, a test) reports what happened through
the methods below, calls `route(now)` for the offers and redirects to carry out, `tick(now)` when
`next_deadline()` is due, and `drain_events()` for the bus.
"""
from __future__ import annotations

import heapq
from typing import Iterable

from appliance.domain.acd.agents import Agent, AgentGroup, AgentState, ReadinessMode, validate_skills
from appliance.domain.acd.calls import WAITING_STATES, Call, CallState, LossType
from appliance.domain.acd.consult import ConsultMixin
from appliance.domain.acd.core import T_OFFER, T_WRAP, EngineCore
from appliance.domain.acd.decisions import Decision
from appliance.domain.acd.errors import AcdConfigError, InvalidTransition, UnknownAgent, UnknownCall, UnknownQueue
from appliance.domain.acd.events import AcdEvent, AcdEventKind
from appliance.domain.acd.queues import OverflowWhen, QueueConfig
from appliance.domain.acd.routing import match_agent, match_call
from appliance.domain.acd.stats import QueueStats
from appliance.domain.acd.strategies import call_key

_E = AcdEventKind
_READY, _INBOUND = AgentState.READY, ReadinessMode.INBOUND


def _idle_order(agent: Agent) -> float:
    return agent.idle_since


class AcdEngine(ConsultMixin, EngineCore):
    """Automatic call distribution for one site (or tenant): see the module note for how to drive it."""

    # ------------------------------------------------------------------ configuration
    def add_queue(self, queue: QueueConfig) -> None:
        """Add a queue, or replace one's configuration live (waiting calls keep their places)."""
        for rule in queue.overflow:
            if rule.to_queue is not None and rule.to_queue not in self._queues:
                raise AcdConfigError(f"queue {queue.id!r}: overflow target {rule.to_queue!r} is not a known queue "
                                     "(add it first; mutual overflow: add both, then replace one)")
        old = self._queues.get(queue.id)
        self._queues[queue.id] = queue
        if old is None:
            self._waiting[queue.id] = {}
            self._stats[queue.id] = QueueStats(queue.sl_target_s, queue.short_abandon_s)
            self._index.segment(queue, None, None, 1)
        else:
            stats = self._stats[queue.id]
            stats.sl_target_s, stats.short_abandon_s = queue.sl_target_s, queue.short_abandon_s
            self._index.reconfigure_queue(queue)
            self._pending_agents.extend(a for a in self._agents.values() if a.available)

    def add_group(self, group: AgentGroup) -> None:
        """Add or replace an agent group (its caller-number display policy, B19)."""
        self._groups[group.id] = group

    def add_agent(self, agent: Agent) -> None:
        """Add a new agent (logged out)."""
        if agent.id in self._agents:
            raise AcdConfigError(f"agent {agent.id!r} already exists")
        agent.state = AgentState.LOGGED_OUT
        self._agents[agent.id] = agent
        self._index.add_agent(agent)

    def update_agent(self, agent_id: str, *, skills: dict[str, int] | None = None,
                     languages: Iterable[str] | None = None, groups: Iterable[str] | None = None) -> None:
        """Change an agent's skills, languages or groups, live."""
        agent = self.agent(agent_id)
        if skills is not None:
            agent.skills = validate_skills(skills, f"agent {agent_id!r}")
        if languages is not None:
            agent.languages = frozenset(languages)
        if groups is not None:
            agent.groups = frozenset(groups)
        self._index.reprofile_agent(agent)
        if agent.available:
            self._pending_agents.append(agent)

    def remove_agent(self, agent_id: str) -> None:
        """Remove a logged-out agent."""
        agent = self.agent(agent_id)
        if agent.state is not AgentState.LOGGED_OUT:
            raise InvalidTransition(f"agent {agent_id!r} must log out before removal")
        self._index.remove_agent(agent)
        del self._agents[agent_id]

    def agent(self, agent_id: str) -> Agent:
        """The agent with this id."""
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    def queue(self, queue_id: str) -> QueueConfig:
        """The queue with this id."""
        try:
            return self._queues[queue_id]
        except KeyError:
            raise UnknownQueue(queue_id) from None

    def call(self, call_id: str) -> Call:
        """The live (not yet finished) call with this id."""
        try:
            return self._calls[call_id]
        except KeyError:
            raise UnknownCall(call_id) from None

    def agents(self) -> list[Agent]:
        """Every agent."""
        return list(self._agents.values())

    def queues(self) -> list[QueueConfig]:
        """Every queue."""
        return list(self._queues.values())

    def live_calls(self) -> list[Call]:
        """Every call not yet finished."""
        return list(self._calls.values())

    def stats(self, queue_id: str) -> QueueStats:
        """The running figures of a queue."""
        self.queue(queue_id)
        return self._stats[queue_id]

    def reset_stats(self) -> None:
        """Start every queue's running figures afresh (a new day, or after a simulation's warm-up)."""
        for queue in self._queues.values():
            self._stats[queue.id] = QueueStats(queue.sl_target_s, queue.short_abandon_s)

    def waiting_calls(self, queue_id: str) -> list[Call]:
        """The calls waiting in (or also searching) a queue, first in line first."""
        queue = self.queue(queue_id)
        return sorted(self._waiting[queue_id].values(), key=lambda c: (*call_key(queue, c), c.seq))

    def waiting_count(self, queue_id: str) -> int:
        """How many calls wait in (or also search) a queue."""
        self.queue(queue_id)
        return len(self._waiting[queue_id])

    def staffing(self, queue_id: str) -> tuple[int, int, int]:
        """Agents able to serve the queue: (logged in, working = logged in for inbound and not paused, free)."""
        queue = self.queue(queue_id)
        seg = self._index.segment(queue, None, None, 1)
        agents = self._agents
        free = sum(1 for agent_id in seg.eligible if agents[agent_id].available)
        return seg.logged_in, seg.working, free

    def previous_agent(self, caller: str) -> tuple[str, float] | None:
        """The agent who last talked to this caller number, and when that call ended."""
        return self._history.get(caller)

    def agent_login(self, agent_id: str, now: float, mode: ReadinessMode = ReadinessMode.INBOUND,
                    pause_reason: str | None = None) -> None:
        """Log an agent in with a preselected readiness mode, ready or (with a reason) paused."""
        agent = self.agent(agent_id)
        if agent.state is not AgentState.LOGGED_OUT:
            raise InvalidTransition(f"agent {agent_id!r} is already logged in")
        if pause_reason is not None:
            self._check_reason(pause_reason)
        agent.idle_since = now
        agent.pending_pause = None
        state = AgentState.READY if pause_reason is None else AgentState.PAUSED
        self._change(agent, now, state, mode=mode, reason=pause_reason)

    def agent_logout(self, agent_id: str, now: float) -> None:
        """Log an agent out; an offer ringing at the agent is withdrawn and the call goes back in line."""
        agent = self.agent(agent_id)
        if agent.state is AgentState.LOGGED_OUT:
            raise InvalidTransition(f"agent {agent_id!r} is not logged in")
        if agent.state is AgentState.BUSY:
            raise InvalidTransition(f"agent {agent_id!r} is on a call")
        if agent.state is AgentState.RESERVED:
            self._withdraw_from(agent, self._calls[agent.call_id], now)
        agent.pending_pause = None
        agent.wrap_until = None
        agent.wrap_hold = False
        self._change(agent, now, AgentState.LOGGED_OUT)
        self._after_logout(agent, now)

    def set_ready(self, agent_id: str, now: float) -> None:
        """Ready for calls: from pause or wrap-up now; on a call, cancels a pause asked for after it."""
        agent = self.agent(agent_id)
        state = agent.state
        if state is AgentState.LOGGED_OUT:
            raise InvalidTransition(f"agent {agent_id!r} is not logged in")
        if state in (AgentState.BUSY, AgentState.RESERVED):
            agent.pending_pause = None
        elif state is AgentState.WRAP_UP and agent.wrap_hold:
            raise InvalidTransition("choose the wrap-up codes for the last call first")
        elif state is not AgentState.READY:
            agent.wrap_until = None
            self._change(agent, now, AgentState.READY)

    def pause(self, agent_id: str, reason: str, now: float) -> None:
        """Pause with a reason from the configured set; on a call, the pause starts when it ends."""
        agent = self.agent(agent_id)
        self._check_reason(reason)
        state = agent.state
        if state is AgentState.LOGGED_OUT:
            raise InvalidTransition(f"agent {agent_id!r} is not logged in")
        if state in (AgentState.BUSY, AgentState.RESERVED):
            agent.pending_pause = reason
        elif state is AgentState.WRAP_UP and agent.wrap_hold:
            agent.pending_pause = reason  # the pause starts once the wrap-up codes are given
        else:
            agent.wrap_until = None
            self._change(agent, now, AgentState.PAUSED, reason=reason)

    def hold_wrap_up(self, agent_id: str, hold: bool, now: float) -> None:
        """Keep the agent in wrap-up past its time until wrap-up codes are given (hold=False lets it end)."""
        agent = self.agent(agent_id)
        agent.wrap_hold = hold
        if not hold and agent.state is AgentState.WRAP_UP and agent.wrap_until is None:
            self._end_wrap(agent, now)  # the wrap-up time is over already

    def set_mode(self, agent_id: str, mode: ReadinessMode, now: float) -> None:
        """Switch between inbound, outbound and back-office work without logging out (B5)."""
        agent = self.agent(agent_id)
        if agent.state is AgentState.LOGGED_OUT:
            raise InvalidTransition(f"agent {agent_id!r} is not logged in")
        if mode is not agent.mode:
            self._change(agent, now, agent.state, mode=mode, reason=agent.pause_reason)

    def enqueue(self, call: Call, queue_id: str, now: float) -> None:
        """A new call waits in a queue (its enqueue time is now)."""
        queue = self.queue(queue_id)
        if call.id in self._calls:
            raise InvalidTransition(f"call {call.id!r} is already in the ACD")
        call.state = CallState.QUEUED
        call.queue_id = queue_id
        call.enqueued_at = now
        self._admit(call, queue, now)

    def enqueue_callback(self, call: Call, queue_id: str, number: str, now: float,
                         enqueued_at: float | None = None) -> None:
        """C13: a callback asked for on the web (or by another system) joins the line as a virtual call."""
        queue = self.queue(queue_id)
        if call.id in self._calls:
            raise InvalidTransition(f"call {call.id!r} is already in the ACD")
        call.state = CallState.CALLBACK_REQUESTED
        call.callback_number = number
        call.queue_id = queue_id
        call.enqueued_at = now if enqueued_at is None else enqueued_at
        self._stats[queue_id].callbacks_requested += 1
        self._admit(call, queue, now)

    def request_callback(self, call_id: str, number: str, now: float) -> None:
        """C13: a queued caller asks to be called back; the call keeps its place as a virtual call."""
        call = self.call(call_id)
        if call.state is not CallState.QUEUED:
            raise InvalidTransition(f"call {call_id!r} is {call.state.value}, not queued")
        call.state = CallState.CALLBACK_REQUESTED
        call.callback_number = number
        # the heap entries stay valid (same version): the place in line is kept; wait timers stop counting
        call.queue_epoch += 1
        self._stats[call.queue_id].callbacks_requested += 1
        self._events.append(AcdEvent(_E.CALLBACK_REQUESTED, now, call_id=call.id, queue_id=call.queue_id,
                                     target=number))

    def route(self, now: float) -> list[Decision]:
        """Match waiting calls with free agents; returns the offers (and overflow redirects) to carry out.

        Between two calls of route, agents become free and calls arrive. A newly free agent first takes the
        best call already waiting (those had nobody free for them); a call that arrived meanwhile goes to
        the best free agent by its queue's strategy, which may be one that was idle for longer.
        """
        if not self._pending_calls and not self._pending_agents and not self._decisions:
            return []
        pending_calls, self._pending_calls = self._pending_calls, []
        pending_agents, self._pending_agents = self._pending_agents, []
        history, agents, index, offer = self._history, self._agents, self._index, self._offer
        if pending_agents:
            # Call has identity equality, so a set of the calls themselves (built in C) says which are new
            fresh = set(pending_calls)
            if len(pending_agents) > 1:
                pending_agents.sort(key=_idle_order)
            pushed = False
            for agent in pending_agents:
                while agent.state is _READY and agent.mode is _INBOUND:  # agent.available, inlined
                    match = match_agent(agent)
                    if match is None:
                        index.push_agent(agent)
                        break
                    if match.call in fresh:
                        if not pushed:
                            # the new call must see every free agent, the newly free ones included
                            for other in pending_agents:
                                if other.available:
                                    index.push_agent(other)
                            pushed = True
                        match = match_call(match.call, history, agents, now) or match
                    offer(match, now)
        if pending_calls:
            if len(pending_calls) > 1:
                pending_calls.sort(key=self._pending_call_key)
            live = self._calls
            for call in pending_calls:
                if call.state in WAITING_STATES and call.id in live:
                    match = match_call(call, history, agents, now)
                    if match is not None:
                        offer(match, now)
        out = self._decisions
        self._decisions = []
        return out

    def offer_result(self, call_id: str, agent_id: str, accepted: bool, now: float) -> None:
        """The agent took the offered call (same as call_answered) or declined it."""
        if accepted:
            self.call_answered(call_id, agent_id, now)
            return
        call, agent = self._offered_pair(call_id, agent_id)
        queue = self._queues[call.serving_queue_id]
        self._release(agent, now, queue.no_answer_pause)
        call.offered_to = tuple(a for a in call.offered_to if a != agent_id)
        if not call.offered_to:
            self._back_in_line(call, now)

    def call_answered(self, call_id: str, agent_id: str, now: float) -> None:
        """The agent answered the offered call; other agents ringing for it (ring_all) are released."""
        call, agent = self._offered_pair(call_id, agent_id)
        for other_id in call.offered_to:
            if other_id != agent_id:
                other = self._agents[other_id]
                self._release(other, now, None)
                self._events.append(AcdEvent(_E.OFFER_WITHDRAWN, now, call_id=call.id, agent_id=other_id))
        call.state = CallState.CONNECTED
        call.version += 1
        call.answered_at = now
        call.agent_id = agent_id
        call.offered_to = (agent_id,)
        agent.calls_taken += 1
        agent.last_call_id = call.id
        agent.wrap_hold = self._queues[call.serving_queue_id or call.queue_id].wrap_up_codes_required
        self._change(agent, now, AgentState.BUSY)
        stats = self._stats[call.queue_id]
        if call.is_callback:
            stats.callbacks_answered += 1
        else:
            stats.record_answer(now - call.enqueued_at)
        self._events.append(AcdEvent(_E.CALL_ANSWERED, now, call_id=call.id, agent_id=agent_id,
                                     queue_id=call.serving_queue_id))

    def call_ended(self, call_id: str, now: float) -> None:
        """A connected call hung up: the call ends and its agent goes to wrap-up."""
        call = self.call(call_id)
        if call.state is not CallState.CONNECTED:
            raise InvalidTransition(f"call {call_id!r} is {call.state.value}, not connected")
        if call.consult is not None:  # the customer hung up: a consultation or three-way ends with the call
            self.consult_end(call_id, now, "hung_up")
        self._after_conversation(call, now)
        self._events.append(AcdEvent(_E.CALL_ENDED, now, call_id=call.id, agent_id=call.agent_id,
                                     queue_id=call.serving_queue_id))
        self._finish(call, CallState.ENDED, now)

    def transfer(self, call_id: str, now: float, to_queue: str | None = None, to_number: str | None = None) -> None:
        """The agent hands a connected call on: into another queue (it queues anew) or out to a number."""
        call = self.call(call_id)
        if call.state is not CallState.CONNECTED:
            raise InvalidTransition(f"call {call_id!r} is {call.state.value}, not connected")
        if (to_queue is None) == (to_number is None):
            raise AcdConfigError("transfer needs exactly one of to_queue, to_number")
        if call.consult is not None:
            raise InvalidTransition(f"call {call_id!r} has a consultation: complete or cancel it first")
        target = self.queue(to_queue) if to_queue is not None else None
        self._after_conversation(call, now)
        self._events.append(AcdEvent(_E.CALL_TRANSFERRED, now, call_id=call.id, agent_id=call.agent_id,
                                     queue_id=call.serving_queue_id, target=to_queue or to_number))
        if target is None:
            call.outcome_target = to_number
            self._finish(call, CallState.TRANSFERRED, now)
            return
        call.agent_id = None
        call.offered_to = ()
        call.serving_queue_id = None
        call.state = CallState.QUEUED
        call.queue_id = target.id
        call.enqueued_at = now
        call.seq = next(self._call_seq)
        self._stats[target.id].arrived += 1
        self._events.append(AcdEvent(_E.CALL_QUEUED, now, call_id=call.id, queue_id=target.id))
        self._place(call, target, now, 0)

    def abandon(self, call_id: str, now: float) -> None:
        """The caller hung up before an agent answered (or a callback was cancelled)."""
        call = self.call(call_id)
        if call.state in WAITING_STATES:
            loss = LossType.ABANDONED_IN_QUEUE
            self._leave_waiting(call)
        elif call.state is CallState.OFFERED:
            loss = LossType.ABANDONED_RINGING
            for agent_id in call.offered_to:
                self._release(self._agents[agent_id], now, None)
                self._events.append(AcdEvent(_E.OFFER_WITHDRAWN, now, call_id=call.id, agent_id=agent_id))
        else:
            raise InvalidTransition(f"call {call_id!r} is {call.state.value}; a connected call ends, not abandons")
        call.loss = loss
        if not call.is_callback:
            self._stats[call.queue_id].record_abandon(now - call.enqueued_at, loss)
        self._events.append(AcdEvent(_E.CALL_ABANDONED, now, call_id=call.id, queue_id=call.queue_id,
                                     reason=loss.value))
        self._finish(call, CallState.ABANDONED, now)

    def next_deadline(self) -> float | None:
        """When `tick` next has something to do (wrap-up end, offer timeout, overflow), or None."""
        timers = self._timers
        while timers and not self._timer_live(timers[0]):
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    def tick(self, now: float) -> None:
        """Run everything due by `now`: wrap-up ends (auto-ready), offer timeouts, wait-time overflows."""
        timers = self._timers
        while timers and timers[0][0] <= now:
            entry = heapq.heappop(timers)
            if not self._timer_live(entry):
                continue
            _, _, kind, obj, _, position = entry
            if kind == T_WRAP:
                self._end_wrap(obj, now)
            elif kind == T_OFFER:
                self._offer_timed_out(obj, now)
            elif obj.state is CallState.QUEUED:
                # a call being offered is left alone; if the offer fails, it comes back and re-arms
                rules = self._queues[obj.queue_ids[0]].overflow
                if position < len(rules) and rules[position].when is OverflowWhen.WAIT_OVER:
                    self._overflow(obj, rules[position], now)

    def advance(self, now: float) -> list[Decision]:
        """`tick(now)` then `route(now)`: what a driver calls when time moves or something happened."""
        self.tick(now)
        return self.route(now)

    def drain_events(self) -> list[AcdEvent]:
        """The events since the last drain, oldest first."""
        out = self._events
        self._events = []
        return out
