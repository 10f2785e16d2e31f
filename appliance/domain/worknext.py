"""The universal work queue (F15): which open ticket an agent should take next.

An agent can take a ticket when it needs no skill or a skill the agent has at or above `min_level`,
and when its language is unset or one of the agent's language skills. Among those, the most urgent
priority wins, then the earliest SLA due time, then the oldest ticket. The data layer asks one
indexed query per skill the agent has (`probes`) and lets `choose` pick among their heads.

Team settings narrow it (F3): a team may name the mailboxes whose tickets its members take from the queue
(with their sub-mailboxes, F5) and cap how many unfinished tickets a member may hold. An agent in several
teams may take from every mailbox any of their limiting teams names, and the smallest cap applies.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

MAX_OPEN_LIMIT = 1000


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
    mailbox_id: int | None = None


@dataclass(frozen=True)
class WorkLimits:
    """What an agent's teams allow: mailboxes (None: any) and a cap on unfinished tickets held (None: none)."""

    mailboxes: frozenset[int] | None = None
    max_open: int | None = None

    def allows(self, c: Candidate) -> bool:
        """Whether the candidate's mailbox is one the agent may take from; tickets in no mailbox always are."""
        return self.mailboxes is None or c.mailbox_id is None or c.mailbox_id in self.mailboxes

    def full(self, held: int) -> bool:
        """Whether an agent holding `held` unfinished tickets may take no more."""
        return self.max_open is not None and held >= self.max_open


NO_LIMITS = WorkLimits()


def settings_problems(settings: Mapping[str, Any]) -> dict[str, str]:
    """Problems with a team's work-queue settings, by key (`mailbox_ids`, `max_open_tickets`)."""
    problems = {}
    ids = settings.get("mailbox_ids")
    if ids is not None and (not isinstance(ids, list) or len(ids) > 500
                            or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids)):
        problems["mailbox_ids"] = "must be a list of mailbox ids"
    cap = settings.get("max_open_tickets")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= MAX_OPEN_LIMIT):
        problems["max_open_tickets"] = f"must be a whole number from 1 to {MAX_OPEN_LIMIT}"
    return problems


def team_limits(teams: Iterable[Mapping[str, Any]], parent_of: Mapping[int, int | None]) -> WorkLimits:
    """The limits of an agent from the settings of their teams; `parent_of` is the tenant's mailbox tree."""
    allowed: set[int] | None = None
    cap: int | None = None
    for settings in teams:
        if settings_problems(settings):
            continue  # refused when saved; an old bad value limits nothing rather than everything
        if settings.get("mailbox_ids") is not None:
            allowed = (allowed or set()) | set(settings["mailbox_ids"])
        if settings.get("max_open_tickets") is not None:
            cap = settings["max_open_tickets"] if cap is None else min(cap, settings["max_open_tickets"])
    if allowed is not None:
        allowed = with_descendants(allowed, parent_of)
    return WorkLimits(frozenset(allowed) if allowed is not None else None, cap)


def with_descendants(roots: set[int], parent_of: Mapping[int, int | None]) -> set[int]:
    """The mailboxes and every mailbox below them."""
    found = set(roots)
    for box in parent_of:
        seen: set[int] = set()
        current: int | None = box
        while current is not None and current not in seen and current not in found:
            seen.add(current)
            current = parent_of.get(current)
        if current in found:
            found |= seen
    return found


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


def eligible(agent: AgentAbility, c: Candidate, limits: WorkLimits = NO_LIMITS) -> bool:
    """Whether the agent may take the candidate."""
    if not limits.allows(c):
        return False
    if c.language and c.language not in agent.languages:
        return False
    if c.skill_id is None:
        return True
    return agent.skills.get(c.skill_id, 0) >= c.min_level


def urgency(c: Candidate) -> tuple[int, datetime.datetime, int]:
    """Sort key: smaller is more urgent."""
    return (c.priority, c.due_at, c.id)


def choose(agent: AgentAbility, candidates: Iterable[Candidate], limits: WorkLimits = NO_LIMITS,
           held: int = 0) -> Candidate | None:
    """The most urgent candidate the agent may take, or None (also when the agent holds enough already)."""
    if limits.full(held):
        return None
    best: Candidate | None = None
    for c in candidates:
        if eligible(agent, c, limits) and (best is None or urgency(c) < urgency(best)):
            best = c
    return best


def choose_by_scan(agent: AgentAbility, tickets: Sequence[Candidate], limits: WorkLimits = NO_LIMITS,
                   held: int = 0) -> Candidate | None:
    """Reference answer over every ticket (tests compare the indexed path against it)."""
    return choose(agent, tickets, limits, held)
