"""Ordering keys: which free agent a queue prefers, and which waiting call comes first."""
from __future__ import annotations

from appliance.domain.acd.agents import Agent
from appliance.domain.acd.calls import Call
from appliance.domain.acd.decisions import Rule
from appliance.domain.acd.queues import PriorityMode, QueueConfig, Strategy

RULE_OF: dict[Strategy, Rule] = {
    Strategy.LONGEST_IDLE: Rule.LONGEST_IDLE,
    Strategy.FEWEST_CALLS: Rule.FEWEST_CALLS,
    Strategy.SKILL_WEIGHTED: Rule.SKILL_WEIGHTED,
    Strategy.RING_ALL: Rule.RING_ALL,
    Strategy.PREVIOUS_AGENT: Rule.PREVIOUS_AGENT,
}

AGENT_SCORE_FIELDS: dict[Strategy, tuple[str, ...]] = {
    Strategy.LONGEST_IDLE: ("idle_since",),
    Strategy.FEWEST_CALLS: ("calls_taken", "idle_since"),
    Strategy.SKILL_WEIGHTED: ("skill_score", "idle_since"),
    Strategy.RING_ALL: ("idle_since",),
}

CALL_SCORE_FIELDS = ("queue_rank", "priority", "effective_enqueued_at")


def skill_score(agent: Agent, requirements: tuple[tuple[str, int], ...]) -> int:
    """The sum of the agent's levels in the skills a segment requires (higher is better)."""
    skills = agent.skills
    return sum(skills.get(name, 0) for name, _ in requirements)


def agent_key(strategy: Strategy, agent: Agent, requirements: tuple[tuple[str, int], ...]) -> tuple[float, ...]:
    """The free-agent heap key for a picking strategy; smallest is picked first.

    The inputs (idle time, calls taken, skills) cannot change while the agent stays free, so the key is
    computed once when the agent becomes free.
    """
    if strategy is Strategy.FEWEST_CALLS:
        return (agent.calls_taken, agent.idle_since)
    if strategy is Strategy.SKILL_WEIGHTED:
        return (-skill_score(agent, requirements), agent.idle_since)
    return (agent.idle_since,)


def agent_score(strategy: Strategy, key: tuple) -> tuple[float, ...]:
    """The key as readable numbers, in AGENT_SCORE_FIELDS order."""
    if strategy is Strategy.SKILL_WEIGHTED:
        return (-key[0], key[1])
    return tuple(key[:len(AGENT_SCORE_FIELDS[strategy])])


def call_key(queue: QueueConfig, call: Call) -> tuple[float, float]:
    """The waiting-call heap key within one queue: (−absolute priority, effective enqueue time).

    Weighted priority (B8 "viktad") lets priority raise the effective wait: each step counts as
    `priority_weight_s` seconds, so a long-waiting normal call still overtakes a fresh urgent one.
    """
    if queue.priority_mode is PriorityMode.WEIGHTED:
        return (0, call.enqueued_at - call.priority * queue.priority_weight_s)
    return (-call.priority, call.enqueued_at)
