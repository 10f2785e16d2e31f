"""What the engine tells the PBX to do, with the reasons as plain data a desk or wallboard can render."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable


class DecisionAction(str, enum.Enum):
    """The command for the PBX."""

    OFFER = "offer"  # ring the listed agents
    REDIRECT = "redirect"  # send the call to an external number (overflow)
    DISCONNECT = "disconnect"  # give the call up: closing message and hang up


class Trigger(str, enum.Enum):
    """What set the decision off."""

    CALL_WAITING = "call_waiting"  # a waiting call found free agents
    AGENT_FREE = "agent_free"  # a free agent found waiting calls
    QUEUE_STATE = "queue_state"  # an overflow condition held


class Rule(str, enum.Enum):
    """The rule that picked."""

    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    SKILL_WEIGHTED = "skill_weighted"
    RING_ALL = "ring_all"
    PREVIOUS_AGENT = "previous_agent"
    # a free agent takes the first call in line over all its queues: queue rank, then priority, then wait
    FIRST_IN_LINE = "first_in_line"
    OVERFLOW_NO_AGENTS = "overflow_no_agents"
    OVERFLOW_WAIT = "overflow_wait"
    OVERFLOW_SIZE = "overflow_size"
    OVERFLOW_CLOSED = "overflow_closed"


@dataclass(slots=True)
class Candidate:
    """One agent or call the rule looked at, with its score in the decision's `score_fields` order."""

    id: str
    queue_id: str
    score: tuple[float, ...]
    picked: bool


@dataclass(slots=True)
class Offer:
    """Ring this agent; `caller_display` is the caller number as this agent may see it (B19)."""

    agent_id: str
    extension: str
    caller_display: str


class Decision:
    """One routing decision and why it was made.

    `candidates` (what the rule looked at, with scores) is built on first use from what the match kept
    (`why`): a busy site decides far more often than anyone looks.
    """

    __slots__ = ("action", "call_id", "queue_id", "at", "trigger", "rule", "offers", "score_fields", "target",
                 "is_callback", "_candidates", "_why")

    def __init__(self, action: DecisionAction, call_id: str, queue_id: str, at: float, trigger: Trigger, rule: Rule,
                 offers: tuple[Offer, ...] = (), candidates: tuple[Candidate, ...] = (),
                 score_fields: tuple[str, ...] = (), target: str | None = None, is_callback: bool = False,
                 why: tuple[Callable[[Any], tuple[Candidate, ...]], Any] | None = None) -> None:
        self.action = action
        self.call_id = call_id
        self.queue_id = queue_id
        self.at = at
        self.trigger = trigger
        self.rule = rule
        self.offers = offers
        self.score_fields = score_fields
        self.target = target
        self.is_callback = is_callback
        self._candidates = candidates
        self._why = why

    def __repr__(self) -> str:
        return (f"Decision({self.action.value}, call={self.call_id!r}, queue={self.queue_id!r}, "
                f"agents={self.agent_ids!r}, rule={self.rule.value}, trigger={self.trigger.value})")

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """The agents or calls the rule looked at, in `score_fields` order, the picked one(s) marked."""
        why = self._why
        if why is not None:
            self._candidates = why[0](why[1])
            self._why = None
        return self._candidates

    @property
    def agent_ids(self) -> tuple[str, ...]:
        """The agents offered the call (several only for ring_all)."""
        return tuple(offer.agent_id for offer in self.offers)

    def to_data(self) -> dict[str, Any]:
        """The decision as plain JSON-able data."""
        return {
            "action": self.action.value, "call_id": self.call_id, "queue_id": self.queue_id, "at": self.at,
            "trigger": self.trigger.value, "rule": self.rule.value, "target": self.target,
            "is_callback": self.is_callback, "score_fields": list(self.score_fields),
            "offers": [{"agent_id": o.agent_id, "extension": o.extension, "caller_display": o.caller_display}
                       for o in self.offers],
            "candidates": [{"id": c.id, "queue_id": c.queue_id, "score": list(c.score), "picked": c.picked}
                           for c in self.candidates],
        }
