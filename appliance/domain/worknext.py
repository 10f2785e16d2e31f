"""The universal work queue (F15): which open ticket an agent should take next.

An agent can take a ticket when it needs no skill or a skill the agent has at or above `min_level`,
and when its language is unset or one of the agent's language skills. Among those, the most urgent
priority wins, then the earliest SLA due time, then the oldest ticket. The data layer asks one
indexed query per skill the agent has (`probes`) and lets `choose` pick among their heads.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class AgentAbility:
    """An agent's skills (skill id → level 1–5) and languages (ISO codes)."""

    skills: dict[int, int]
    languages: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    """The head of one probe: an open, unowned ticket."""

    id: int
    priority: int
    due_at: datetime.datetime
    skill_id: int | None
    min_level: int
    language: str


@dataclass(frozen=True)
class Probe:
    """One indexed lookup: tickets needing `skill_id` (None: no skill) up to `max_level`, in `languages`."""

    skill_id: int | None
    max_level: int
    languages: tuple[str, ...]


def probes(agent: AgentAbility) -> list[Probe]:
    """The lookups that together cover every ticket the agent may take."""
    langs = ("",) + tuple(sorted(agent.languages))
    out = [Probe(None, 5, langs)]
    out += [Probe(skill, level, langs) for skill, level in sorted(agent.skills.items())]
    return out


def eligible(agent: AgentAbility, c: Candidate) -> bool:
    """Whether the agent may take the candidate."""
    if c.language and c.language not in agent.languages:
        return False
    if c.skill_id is None:
        return True
    return agent.skills.get(c.skill_id, 0) >= c.min_level


def urgency(c: Candidate) -> tuple[int, datetime.datetime, int]:
    """Sort key: smaller is more urgent."""
    return (c.priority, c.due_at, c.id)


def choose(agent: AgentAbility, candidates: Iterable[Candidate]) -> Candidate | None:
    """The most urgent candidate the agent may take, or None."""
    best: Candidate | None = None
    for c in candidates:
        if eligible(agent, c) and (best is None or urgency(c) < urgency(best)):
            best = c
    return best


def choose_by_scan(agent: AgentAbility, tickets: Sequence[Candidate]) -> Candidate | None:
    """Reference answer over every ticket (tests compare the indexed path against it)."""
    return choose(agent, tickets)
