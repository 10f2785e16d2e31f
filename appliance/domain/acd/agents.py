"""Agents (handläggare / 座席): their profile, their state and the rules on extensions and skills."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Mapping

from appliance.domain.acd.errors import AcdConfigError, InvalidExtension

MIN_SKILL_LEVEL = 1
MAX_SKILL_LEVEL = 10
# B20: the Chinese seed (启通宝 §5.2 服务管理) says "座席分机号支持1-6位": extensions of 1 to 6 digits.
_EXTENSION = re.compile(r"[0-9]{1,6}")


class AgentState(str, enum.Enum):
    """Where an agent is in the ACD's eyes."""

    LOGGED_OUT = "logged_out"
    READY = "ready"
    RESERVED = "reserved"  # a call is being offered (ringing) to this agent
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class ReadinessMode(str, enum.Enum):
    """B5: what kind of work the agent logged in for; only INBOUND agents receive queue offers."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    BACK_OFFICE = "back_office"


def validate_extension(extension: str) -> str:
    """Return the extension if it is 1 to 6 ASCII digits, else raise InvalidExtension (B20)."""
    if not isinstance(extension, str) or not _EXTENSION.fullmatch(extension):
        raise InvalidExtension(f"extension must be 1 to 6 digits, got {extension!r}")
    return extension


def validate_skills(skills: Mapping[str, int], owner: str) -> dict[str, int]:
    """Return skills as a dict if every level is an int from 1 to 10, else raise AcdConfigError."""
    out: dict[str, int] = {}
    for name, level in skills.items():
        if not isinstance(name, str) or not name:
            raise AcdConfigError(f"{owner}: skill names must be non-empty strings, got {name!r}")
        if isinstance(level, bool) or not isinstance(level, int) or not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
            raise AcdConfigError(f"{owner}: skill {name!r} level must be 1..10, got {level!r}")
        out[name] = level
    return out


def mask_number(number: str, keep_last: int = 0) -> str:
    """Hide a caller number for display (B19): every digit but the last `keep_last` becomes '*'."""
    total = sum(ch.isdigit() for ch in number)
    seen = 0
    out = []
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep_last else "*")
        else:
            out.append(ch)
    return "".join(out)


@dataclass(slots=True)
class AgentGroup:
    """A group of agents (座席组) with its display policy; B19 hides caller numbers per group."""

    id: str
    name: str = ""
    hide_caller_number: bool = False
    keep_last_digits: int = 0


@dataclass(slots=True, eq=False)
class Agent:
    """An agent: the profile given by the admin, plus the live fields the engine maintains."""

    id: str
    extension: str
    name: str = ""
    skills: dict[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    # None: the queue's wrap-up time applies
    wrap_up_s: float | None = None
    # B5 / Swedish "autoready": back to ready by itself when wrap-up ends
    auto_ready: bool = True

    # --- maintained by the engine ---
    state: AgentState = AgentState.LOGGED_OUT
    mode: ReadinessMode = ReadinessMode.INBOUND
    pause_reason: str | None = None
    pending_pause: str | None = None
    state_since: float = 0.0
    # longest-idle ordering: when the last call ended, or the login time before any call
    idle_since: float = 0.0
    last_call_ended: float | None = None
    calls_taken: int = 0
    call_id: str | None = None
    wrap_until: float | None = None
    # wrap-up codes still owed for the last call: wrap-up does not end by itself until they are given
    wrap_hold: bool = False
    last_call_id: str | None = None  # the call the wrap-up (and its codes) belongs to
    # bumped whenever the agent stops being available, so stale index entries can be recognised
    epoch: int = 0
    # the epoch whose entries sit in the free-agent heaps, and the segments the agent is eligible for
    heap_epoch: int = -1
    segments: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        validate_extension(self.extension)
        self.skills = validate_skills(self.skills, f"agent {self.id!r}")
        self.languages = frozenset(self.languages)
        self.groups = frozenset(self.groups)
        if self.wrap_up_s is not None and self.wrap_up_s < 0:
            raise AcdConfigError(f"agent {self.id!r}: wrap_up_s must be >= 0, got {self.wrap_up_s!r}")

    @property
    def available(self) -> bool:
        """Ready for inbound queue work right now."""
        return self.state is AgentState.READY and self.mode is ReadinessMode.INBOUND

    def snapshot(self) -> dict[str, object]:
        """The agent as plain data for a desk or wallboard."""
        return {
            "id": self.id, "extension": self.extension, "name": self.name, "state": self.state.value,
            "mode": self.mode.value, "pause_reason": self.pause_reason, "since": self.state_since,
            "calls_taken": self.calls_taken, "call_id": self.call_id, "skills": dict(self.skills),
            "languages": sorted(self.languages), "groups": sorted(self.groups),
        }
