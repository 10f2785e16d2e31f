"""Matching: the best free agent for a waiting call, or the best waiting call for a free agent.

This is the hot path of `route()`: it reads the segment heaps in place and returns a small `Match` whose
explanation (the candidates a desk or wallboard shows) is only built when someone asks for it.
"""
from __future__ import annotations

import heapq
from typing import Any, Callable

from appliance.domain.acd.agents import Agent
from appliance.domain.acd.calls import WAITING_STATES, Call
from appliance.domain.acd.decisions import Candidate, Rule, Trigger
from appliance.domain.acd.index import Segment, pop_all_agents
from appliance.domain.acd.queues import Strategy
from appliance.domain.acd.strategies import AGENT_SCORE_FIELDS, CALL_SCORE_FIELDS, RULE_OF, agent_score

# previous-agent routing: caller number -> (agent id, when their last call ended)
History = dict[str, tuple[str, float]]
# how to build a decision's candidates later: a builder and the raw material it reads
Why = tuple[Callable[[Any], tuple[Candidate, ...]], Any]

_heappop = heapq.heappop
_RING_ALL, _PREVIOUS = Strategy.RING_ALL, Strategy.PREVIOUS_AGENT
_CALL_WAITING, _AGENT_FREE = Trigger.CALL_WAITING, Trigger.AGENT_FREE


class Match:
    """A call and the agent(s) to offer it to, the rule, and how to explain the choice."""

    __slots__ = ("call", "agents", "segment", "trigger", "rule", "why", "score_fields")

    def __init__(self, call: Call, agents: list[Agent], segment: Segment, trigger: Trigger, rule: Rule, why: Why,
                 score_fields: tuple[str, ...]) -> None:
        self.call = call
        self.agents = agents
        self.segment = segment
        self.trigger = trigger
        self.rule = rule
        self.why = why
        self.score_fields = score_fields

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """What the rule looked at, built now."""
        build, raw = self.why
        return build(raw)


# --- explanations, built on demand from what the match kept (heap entries hold the scores as they were) ---
def _agent_candidates(raw: tuple) -> tuple[Candidate, ...]:
    # raw: (queue, [(heap entry, picked), ...]) for the agents considered, best first
    queue, entries = raw
    strategy = queue.picking_strategy
    return tuple(Candidate(e[-1].id, queue.id, agent_score(strategy, e[:-3]), picked) for e, picked in entries)


def _previous_candidates(raw: tuple) -> tuple[Candidate, ...]:
    # raw: (queue, previous agent id, the free-heap head other than the previous agent or None)
    queue, prev_id, head = raw
    cands = [Candidate(prev_id, queue.id, (), True)]
    if head is not None:
        cands.append(Candidate(head[-1].id, queue.id, agent_score(queue.picking_strategy, head[:-3]), False))
    return tuple(cands)


def _call_candidates(raw: tuple) -> tuple[Candidate, ...]:
    # raw: (picked entry, [(call heap entry, queue), ...]); the call's own priority is shown: weighted
    # queues fold it into the effective enqueue time instead
    best, heads = raw
    return tuple(Candidate(e[4].id, q.id, (q.rank, e[4].priority, e[1]), e is best) for e, q in heads)


def _previous_agent(call: Call, seg: Segment, history: History, agents: dict[str, Agent],
                    now: float) -> Agent | None:
    # Swedish seed "matcha tidigare handläggare (tid)": prefer whoever spoke to this caller within the window
    last = history.get(call.caller) if call.caller else None
    if last is None or now - last[1] > seg.queue.previous_agent_window_s:
        return None
    agent = agents.get(last[0])
    if agent is None or not agent.available or agent.id not in seg.eligible:
        return None
    return agent


def _live_free_head(free: list) -> tuple | None:
    """The first live entry of a free-agent heap, dropping stale ones on the way (index.head_agent inlined)."""
    while free:
        entry = free[0]
        agent = entry[-1]
        if agent.epoch == entry[-2] and agent.available:
            return entry
        _heappop(free)
    return None


def match_call(call: Call, history: History, agents: dict[str, Agent], now: float) -> Match | None:
    """Free agents for a waiting call: its home queue first, then queues it overflowed into."""
    for seg in call.segments:
        if seg.working == 0:
            continue
        queue = seg.queue
        strategy = queue.strategy
        if strategy is _RING_ALL:
            entries = pop_all_agents(seg)
            if entries:
                return Match(call, [e[-1] for e in entries], seg, _CALL_WAITING, Rule.RING_ALL,
                             (_agent_candidates, (queue, [(e, True) for e in entries])),
                             AGENT_SCORE_FIELDS[_RING_ALL])
            continue
        if strategy is _PREVIOUS:
            prev = _previous_agent(call, seg, history, agents, now)
            if prev is not None:
                head = _live_free_head(seg.free)
                other = head if head is not None and head[-1] is not prev else None
                return Match(call, [prev], seg, _CALL_WAITING, Rule.PREVIOUS_AGENT,
                             (_previous_candidates, (queue, prev.id, other)),
                             AGENT_SCORE_FIELDS[queue.fallback])
        free = seg.free
        if not free:
            continue
        entry = _live_free_head(free)
        if entry is None:
            continue
        _heappop(free)
        runner_up = _live_free_head(free)
        considered = [(entry, True)] if runner_up is None else [(entry, True), (runner_up, False)]
        picking = queue.fallback if strategy is _PREVIOUS else strategy
        return Match(call, [entry[-1]], seg, _CALL_WAITING, RULE_OF[picking], (_agent_candidates, (queue, considered)),
                     AGENT_SCORE_FIELDS[picking])
    return None


def match_agent(agent: Agent) -> Match | None:
    """The first call in line over all the agent's segments: queue rank, then priority, then wait."""
    best: tuple | None = None
    best_seg: Segment | None = None
    best_rank = 0
    heads: list[tuple] = []
    waiting = WAITING_STATES
    for seg in agent.segments:
        if not seg.n_calls:
            continue
        calls = seg.calls
        # the first live entry of the segment's call heap (index.head_call inlined: this runs per decision)
        while calls:
            entry = calls[0]
            call = entry[4]
            if call.version == entry[3] and call.state in waiting:
                break
            _heappop(calls)
        else:
            continue
        queue = seg.queue
        heads.append((entry, queue))
        rank = queue.rank
        # order: higher rank, then the heap key (priority, effective enqueue time, arrival); a call waiting
        # in two of the agent's segments (overflow that keeps searching) may tie with itself: first one wins
        if best is None or rank > best_rank:
            best, best_seg, best_rank = entry, seg, rank
        elif rank == best_rank:
            if entry[0] < best[0] or (entry[0] == best[0] and (entry[1] < best[1] or (
                    entry[1] == best[1] and entry[2] < best[2]))):
                best, best_seg = entry, seg
    if best is None:
        return None
    return Match(best[4], [agent], best_seg, _AGENT_FREE, Rule.FIRST_IN_LINE, (_call_candidates, (best, heads)),
                 CALL_SCORE_FIELDS)
