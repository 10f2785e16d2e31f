"""Matching: the best free agent for a waiting call, or the best waiting call for a free agent."""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from appliance.domain.acd.agents import Agent
from appliance.domain.acd.calls import Call
from appliance.domain.acd.decisions import Candidate, Rule, Trigger
from appliance.domain.acd.index import Segment, head_agent, head_call, pop_all_agents
from appliance.domain.acd.queues import Strategy
from appliance.domain.acd.strategies import (AGENT_SCORE_FIELDS, CALL_SCORE_FIELDS, RULE_OF, agent_score)

# previous-agent routing: caller number -> (agent id, when their last call ended)
History = dict[str, tuple[str, float]]


@dataclass(slots=True)
class Match:
    """A call and the agent(s) to offer it to, with what was considered."""

    call: Call
    agents: list[Agent]
    segment: Segment
    trigger: Trigger
    rule: Rule
    candidates: tuple[Candidate, ...]
    score_fields: tuple[str, ...]


def _agent_candidate(seg: Segment, entry: tuple, picked: bool) -> Candidate:
    strategy = seg.queue.picking_strategy
    return Candidate(entry[-1].id, seg.queue.id, agent_score(strategy, entry[:-3]), picked)


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


def match_call(call: Call, history: History, agents: dict[str, Agent], now: float) -> Match | None:
    """Free agents for a waiting call: its home queue first, then queues it overflowed into."""
    for seg in call.segments:
        if seg.working == 0:
            continue
        strategy = seg.queue.strategy
        if strategy is Strategy.RING_ALL:
            entries = pop_all_agents(seg)
            if entries:
                cands = tuple(_agent_candidate(seg, e, True) for e in entries)
                return Match(call, [e[-1] for e in entries], seg, Trigger.CALL_WAITING, Rule.RING_ALL, cands,
                             AGENT_SCORE_FIELDS[Strategy.RING_ALL])
            continue
        fields = AGENT_SCORE_FIELDS[seg.queue.picking_strategy]
        if strategy is Strategy.PREVIOUS_AGENT:
            prev = _previous_agent(call, seg, history, agents, now)
            if prev is not None:
                head = head_agent(seg)
                cands = [Candidate(prev.id, seg.queue.id, (), True)]
                if head is not None and head[-1] is not prev:
                    cands.append(_agent_candidate(seg, head, False))
                return Match(call, [prev], seg, Trigger.CALL_WAITING, Rule.PREVIOUS_AGENT, tuple(cands), fields)
        entry = head_agent(seg)
        if entry is None:
            continue
        heapq.heappop(seg.free)
        runner_up = head_agent(seg)
        cands_list = [_agent_candidate(seg, entry, True)]
        if runner_up is not None:
            cands_list.append(_agent_candidate(seg, runner_up, False))
        return Match(call, [entry[-1]], seg, Trigger.CALL_WAITING, RULE_OF[seg.queue.picking_strategy],
                     tuple(cands_list), fields)
    return None


def match_agent(agent: Agent) -> Match | None:
    """The first call in line over all the agent's segments: queue rank, then priority, then wait."""
    best_key: tuple | None = None
    best: tuple | None = None
    heads: list[tuple] = []
    for seg in agent.segments:
        if not seg.n_calls:
            continue
        entry = head_call(seg)
        if entry is None:
            continue
        rank = seg.queue.rank
        key = (-rank, entry[0], entry[1], entry[2])
        head = (entry[4], seg, rank, entry[1])
        heads.append(head)
        if best_key is None or key < best_key:
            best_key, best = key, head
    if best is None:
        return None
    # the call's own priority is shown: weighted queues fold it into the effective enqueue time instead
    # each head is (call, segment, queue rank, effective enqueue time)
    cands = tuple(Candidate(h[0].id, h[1].queue.id, (h[2], h[0].priority, h[3]), h is best) for h in heads)
    return Match(best[0], [agent], best[1], Trigger.AGENT_FREE, Rule.FIRST_IN_LINE, cands, CALL_SCORE_FIELDS)
