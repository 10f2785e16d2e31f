"""Which version of a prompt plays (B10): the active one, unless a rule says otherwise right now.

Rules, strongest first: `holiday` (the calling queue's calendar has a public holiday today), `closed` (the
queue is outside its opening hours), `scheduled` (a time window; with no end, from its start on; of several
windows the one that started last wins). Pure: the caller supplies the time and the calendar's answers.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

RULE_KINDS = ("scheduled", "holiday", "closed")


@dataclass(frozen=True)
class Rule:
    """Play `version` while the rule holds."""

    version: int
    kind: str
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RULE_KINDS)}")
        if self.kind == "scheduled" and self.starts_at is None:
            raise ValueError("a scheduled rule needs starts_at")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")


@dataclass(frozen=True)
class Choice:
    """The version that plays and why (shown in the catalogue)."""

    version: int | None
    reason: str


def choose_version(active: int | None, rules: list[Rule], now: datetime.datetime, *, holiday: bool = False,
                   closed: bool = False) -> Choice:
    """The version to play at `now` (naive UTC, like the rules) given the calendar's view of the queue."""
    if holiday:
        for rule in rules:
            if rule.kind == "holiday":
                return Choice(rule.version, "holiday")
    if closed:
        for rule in rules:
            if rule.kind == "closed":
                return Choice(rule.version, "closed")
    windows = [r for r in rules if r.kind == "scheduled" and r.starts_at is not None and r.starts_at <= now
               and (r.ends_at is None or now < r.ends_at)]
    if windows:
        rule = max(windows, key=lambda r: r.starts_at)
        return Choice(rule.version, "scheduled")
    return Choice(active, "active" if active is not None else "none")
