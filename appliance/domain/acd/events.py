"""Typed events the ACD emits for the bus: one kind enum, one plain record."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class AcdEventKind(str, enum.Enum):
    """What happened; values follow the bus's dotted names so a bridge can map them one to one."""

    AGENT_STATE = "agent.state"
    CALL_QUEUED = "call.queued"
    CALL_OFFERED = "call.offered"
    OFFER_WITHDRAWN = "call.offer_withdrawn"
    CALL_REQUEUED = "call.requeued"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALL_ABANDONED = "call.abandoned"
    CALL_OVERFLOWED = "call.overflowed"
    CALLBACK_REQUESTED = "call.callback_requested"
    CALL_TRANSFERRED = "call.transferred"
    # a consultation or three-way changed (state: ringing, talking, conference, ended); B3, B12
    CALL_PARTIES = "call.parties"


@dataclass(slots=True)
class AcdEvent:
    """One ACD event; fields that do not apply to a kind stay None."""

    kind: AcdEventKind
    at: float
    call_id: str | None = None
    agent_id: str | None = None
    queue_id: str | None = None
    # agent.state: the new state's value and, when paused, the reason
    state: str | None = None
    reason: str | None = None
    # overflow / transfer: the target queue id or external number
    target: str | None = None

    def to_data(self) -> dict[str, Any]:
        """The event as plain JSON-able data (the bus payload), without the None fields."""
        out: dict[str, Any] = {"kind": self.kind.value, "at": self.at}
        for name in ("call_id", "agent_id", "queue_id", "state", "reason", "target"):
            value = getattr(self, name)
            if value is not None:
                # the engine passes str-valued enum members as they are; the payload wants the plain string
                out[name] = value.value if isinstance(value, enum.Enum) else value
        return out
