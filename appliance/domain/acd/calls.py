"""Calls in the ACD: what identifies them, their lifecycle states and how an unanswered one was lost."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class CallState(str, enum.Enum):
    """A call's lifecycle: queued → offered → connected → ended, or one of the other terminal states."""

    QUEUED = "queued"
    # C13: the caller hung up and asked to be called back; a virtual call keeping its place in line
    CALLBACK_REQUESTED = "callback_requested"
    OFFERED = "offered"
    CONNECTED = "connected"
    ENDED = "ended"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"  # sent out of the ACD to an external number
    TRANSFERRED = "transferred"  # handed by an agent to a number outside the ACD


WAITING_STATES = frozenset({CallState.QUEUED, CallState.CALLBACK_REQUESTED})
TERMINAL_STATES = frozenset({CallState.ENDED, CallState.ABANDONED, CallState.OVERFLOWED, CallState.TRANSFERRED})


class LossType(str, enum.Enum):
    """Where an unanswered inbound call was lost.

    The Chinese seed's "人工未接听报表" counts four kinds of loss (统计呼入未接的4种丢失情况) and the missed-call
    log filters by "丢失位置" (where it was lost); the document does not list them, so these four are our reading:
    the caller gave up while queued, gave up while an agent's phone rang, nobody could take it (no agent
    logged in, closed, queue full), or it waited longer than the queue allows. A call sent on to another
    queue or an external number is not lost.
    """

    ABANDONED_IN_QUEUE = "abandoned_in_queue"
    ABANDONED_RINGING = "abandoned_ringing"
    NO_AGENT = "no_agent"
    TIMEOUT = "timeout"


class ConsultState(str, enum.Enum):
    """A second party the agent brought in (B3, B12): being rung, talking with the agent, or in a three-way."""

    RINGING = "ringing"
    TALKING = "talking"
    CONFERENCE = "conference"


@dataclass(slots=True, eq=False)
class Consult:
    """The party an agent consults while the customer holds: another agent of the ACD or an outside number."""

    target: str  # the number or extension dialled
    agent_id: str | None  # the consulted agent, when the target is one the ACD knows
    state: ConsultState
    started_at: float
    by: str = ""  # the agent who consults
    # what the consulted agent was doing before (ready, or paused with a reason), restored when they leave
    prior_reason: str | None = None


@dataclass(slots=True, eq=False)
class Call:
    """One inbound contact (or a callback standing in for one) as the ACD sees it."""

    id: str
    caller: str = ""
    dialled: str = ""
    # digits entered in the queue script, e.g. a customer number (shown on the wallboard, B16)
    entered_digits: str = ""
    language: str | None = None
    # higher is more urgent; absolute or weighted depending on the queue (B8)
    priority: int = 0
    # an extra skill the call needs beyond its queue's, e.g. chosen by caller-number routing (B11)
    required_skill: str | None = None
    required_level: int = 1

    # --- maintained by the engine ---
    state: CallState = CallState.QUEUED
    queue_id: str | None = None
    # queues the call is also searched in after an overflow that keeps searching (Swedish "sökning i flera
    # svarsgrupper"): the home queue first
    queue_ids: tuple[str, ...] = ()
    # the original place in line; kept through requeues and callbacks (C13)
    enqueued_at: float = 0.0
    queue_entered_at: float = 0.0
    offered_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    offered_to: tuple[str, ...] = ()
    # the queue whose offer is out or whose agent is talking (home or an overflow queue)
    serving_queue_id: str | None = None
    agent_id: str | None = None
    callback_number: str | None = None
    loss: LossType | None = None
    outcome_target: str | None = None
    # a consultation or three-way in progress (B3, B12), None otherwise
    consult: Consult | None = None
    # bumped on each state change; index entries and timers carry it to detect staleness
    version: int = 0
    # bumped when the call changes queue or ends; overflow timers carry it
    queue_epoch: int = 0
    seq: int = 0
    # the routing index's segments this call waits in (engine-private)
    segments: list = field(default_factory=list, repr=False)

    @property
    def is_callback(self) -> bool:
        """True for a virtual call standing in for a requested callback."""
        return self.callback_number is not None

    def snapshot(self) -> dict[str, object]:
        """The call as plain data for a desk or wallboard."""
        return {
            "id": self.id, "caller": self.caller, "dialled": self.dialled, "entered_digits": self.entered_digits,
            "language": self.language, "priority": self.priority, "state": self.state.value,
            "queue_id": self.queue_id, "queue_ids": list(self.queue_ids), "enqueued_at": self.enqueued_at,
            "agent_id": self.agent_id, "callback_number": self.callback_number,
            "loss": self.loss.value if self.loss else None,
        }
