"""Queue (answer group / svarsgrupp) configuration: members, skills, strategy, priority, service level, overflow."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from appliance.domain.acd.agents import validate_skills
from appliance.domain.acd.errors import AcdConfigError

if TYPE_CHECKING:
    from appliance.domain.acd.calendar import OpeningCalendar


class Strategy(str, enum.Enum):
    """How a queue picks among free agents (B11: skill level, idle time, fair distribution)."""

    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    SKILL_WEIGHTED = "skill_weighted"
    RING_ALL = "ring_all"
    # Swedish "matcha tidigare handläggare (tid)": the agent who last spoke to this caller within a window
    PREVIOUS_AGENT = "previous_agent"


class PriorityMode(str, enum.Enum):
    """B8 "prioritet (absolut eller viktad)": absolute priority, or priority as extra wait time."""

    ABSOLUTE = "absolute"
    WEIGHTED = "weighted"


class OverflowWhen(str, enum.Enum):
    """The queue state that sends a call elsewhere (B8: conditions on logged-in agents, wait, size, calendar)."""

    NO_AGENTS = "no_agents"  # no eligible agent logged in
    WAIT_OVER = "wait_over"  # the call has waited more than `threshold` seconds in this queue
    SIZE_OVER = "size_over"  # `threshold` calls or more already wait when it arrives
    CLOSED = "closed"  # the queue's calendar says closed


@dataclass(slots=True, frozen=True)
class OverflowRule:
    """Where a call goes when `when` holds: another queue, an external number (B8), or neither: the ACD
    gives the call up (the PBX plays a closing message and hangs up) and counts it lost."""

    when: OverflowWhen
    threshold: float = 0.0
    to_queue: str | None = None
    to_number: str | None = None
    # to a queue: True keeps the call waiting in its queue too ("search several answer groups")
    keep_searching: bool = False

    def __post_init__(self) -> None:
        if self.to_queue is not None and self.to_number is not None:
            raise AcdConfigError(f"overflow rule {self.when.value}: give to_queue or to_number, not both")
        if self.threshold < 0:
            raise AcdConfigError(f"overflow rule {self.when.value}: threshold must be >= 0")
        if self.keep_searching and self.to_queue is None:
            raise AcdConfigError("overflow rule: keep_searching needs to_queue")


@dataclass(slots=True)
class QueueConfig:
    """One queue. `members=None` means any agent with the required skills may serve it."""

    id: str
    name: str = ""
    members: frozenset[str] | None = None
    # skill -> minimum level (1..10)
    skills: dict[str, int] = field(default_factory=dict)
    strategy: Strategy = Strategy.LONGEST_IDLE
    # previous_agent: how far back a previous conversation counts, and what to do without one
    previous_agent_window_s: float = 3600.0
    fallback: Strategy = Strategy.LONGEST_IDLE
    # between queues sharing an agent, the higher rank is always served first
    rank: int = 0
    priority_mode: PriorityMode = PriorityMode.ABSOLUTE
    # weighted: each priority step counts as this many seconds of extra wait
    priority_weight_s: float = 30.0
    # service level: answered within sl_target_s; the goal is sl_goal (fraction); abandons faster than
    # short_abandon_s are left out of the offered count
    sl_target_s: float = 20.0
    sl_goal: float = 0.8
    short_abandon_s: float = 0.0
    wrap_up_s: float = 0.0
    # the agent gives wrap-up codes before wrap-up can end (issue 6: "required if the queue says so")
    wrap_up_codes_required: bool = False
    # an unanswered offer returns the call to its place after this many seconds (0: never times out)
    offer_timeout_s: float = 20.0
    # an agent who lets an offer time out is paused with this reason (None: back to ready)
    no_answer_pause: str | None = "no_answer"
    overflow: tuple[OverflowRule, ...] = ()
    calendar: "OpeningCalendar | None" = None

    def __post_init__(self) -> None:
        owner = f"queue {self.id!r}"
        self.skills = validate_skills(self.skills, owner)
        if self.members is not None:
            self.members = frozenset(self.members)
        if self.strategy is Strategy.PREVIOUS_AGENT and self.fallback in (Strategy.PREVIOUS_AGENT, Strategy.RING_ALL):
            raise AcdConfigError(f"{owner}: fallback must be longest_idle, fewest_calls or skill_weighted")
        for name in ("previous_agent_window_s", "priority_weight_s", "sl_target_s", "short_abandon_s",
                     "wrap_up_s", "offer_timeout_s"):
            if getattr(self, name) < 0:
                raise AcdConfigError(f"{owner}: {name} must be >= 0")
        if not 0.0 <= self.sl_goal <= 1.0:
            raise AcdConfigError(f"{owner}: sl_goal must be a fraction 0..1")
        self.overflow = tuple(self.overflow)
        for rule in self.overflow:
            if rule.to_queue == self.id:
                raise AcdConfigError(f"{owner}: overflow to itself")
            if rule.when is OverflowWhen.CLOSED and self.calendar is None:
                raise AcdConfigError(f"{owner}: overflow when closed needs a calendar")

    @property
    def picking_strategy(self) -> Strategy:
        """The strategy that orders free agents (previous_agent orders by its fallback)."""
        return self.fallback if self.strategy is Strategy.PREVIOUS_AGENT else self.strategy
