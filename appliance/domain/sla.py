"""SLA due times over business hours, and escalation steps (F8).

A calendar is weekly opening hours plus holidays in the tenant's time zone; an SLA clock only runs
while the business is open. All datetimes in and out are naive UTC, as stored.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.domain.errors import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC = datetime.timezone.utc
MAX_SLA_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (minutes from midnight, [start, end) pairs) and closed dates."""

    hours: dict[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[datetime.date] = field(default_factory=frozenset)
    tz: str = "UTC"

    @classmethod
    def always_open(cls, tz: str = "UTC") -> "BusinessCalendar":
        """A 24/7 calendar."""
        return cls({d: ((0, 1440),) for d in range(7)}, frozenset(), tz)

    def open_spans(self, day: datetime.date) -> tuple[tuple[int, int], ...]:
        """Opening spans of one local date."""
        return () if day in self.holidays else self.hours.get(day.weekday(), ())


def _minutes(text: Any, where: str) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValidationError({where: "must be HH:MM"})
    try:
        h, m = int(text[:2]), int(text[3:])
    except ValueError:
        raise ValidationError({where: "must be HH:MM"}) from None
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > 1440:
        raise ValidationError({where: "must be between 00:00 and 24:00"})
    return h * 60 + m


def parse_calendar(data: Mapping[str, Any] | None, tz: str) -> BusinessCalendar:
    """A calendar from its JSON form `{"hours": {"mon": ["08:00", "18:00"], …}, "holidays": ["2025-12-25"]}`.

    An empty object means always open. Raises ValidationError naming `calendar.<path>`.
    """
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": f"unknown time zone {tz!r}"}) from None
    if not data:
        return BusinessCalendar.always_open(tz)
    if not isinstance(data, Mapping):
        raise ValidationError({"calendar": "must be an object"})
    unknown = set(data) - {"hours", "holidays"}
    if unknown:
        raise ValidationError({f"calendar.{sorted(unknown)[0]}": "unknown field"})
    hours: dict[int, tuple[tuple[int, int], ...]] = {}
    raw_hours = data.get("hours", {})
    if not isinstance(raw_hours, Mapping):
        raise ValidationError({"calendar.hours": "must be an object keyed by mon…sun"})
    for day, spans in raw_hours.items():
        if day not in DAYS:
            raise ValidationError({f"calendar.hours.{day}"[:100]: "must be one of " + ", ".join(DAYS)})
        if not isinstance(spans, list) or len(spans) % 2:
            raise ValidationError({f"calendar.hours.{day}": "must be a list of HH:MM start/end pairs"})
        pairs = []
        for i in range(0, len(spans), 2):
            start = _minutes(spans[i], f"calendar.hours.{day}[{i}]")
            end = _minutes(spans[i + 1], f"calendar.hours.{day}[{i + 1}]")
            if end <= start:
                raise ValidationError({f"calendar.hours.{day}[{i + 1}]": "must be after the start"})
            pairs.append((start, end))
        hours[DAYS.index(day)] = tuple(sorted(pairs))
    holidays = set()
    raw_holidays = data.get("holidays", [])
    if not isinstance(raw_holidays, list):
        raise ValidationError({"calendar.holidays": "must be a list of YYYY-MM-DD dates"})
    for i, text in enumerate(raw_holidays):
        try:
            holidays.add(datetime.date.fromisoformat(text))
        except (TypeError, ValueError):
            raise ValidationError({f"calendar.holidays[{i}]": "must be a YYYY-MM-DD date"}) from None
    if not any(hours.values()):
        raise ValidationError({"calendar.hours": "must open on at least one day"})
    return BusinessCalendar(hours, frozenset(holidays), tz)


def add_business_minutes(start: datetime.datetime, minutes: int, cal: BusinessCalendar) -> datetime.datetime:
    """The naive-UTC instant when `minutes` of open time have passed after `start` (whole seconds)."""
    if minutes < 0 or minutes > MAX_SLA_MINUTES:
        raise ValueError("minutes out of range")
    zone = ZoneInfo(cal.tz)
    # Whole seconds throughout: float minutes would drift by a second now and then.
    start = start.replace(microsecond=0)
    local = start.replace(tzinfo=UTC).astimezone(zone)
    day = local.date()
    now_s = local.hour * 3600 + local.minute * 60 + local.second
    remaining = minutes * 60
    # A calendar open at least once a week reaches any target within this many days.
    for _ in range(MAX_SLA_MINUTES // 60 + 800):
        for begin, end in cal.open_spans(day):
            lo, hi = max(begin * 60, now_s), end * 60
            if lo >= hi:
                continue
            if remaining <= hi - lo:
                return _at(day, lo + remaining, zone)
            remaining -= hi - lo
        day += datetime.timedelta(days=1)
        now_s = 0
    raise ValueError("the calendar is never open")


def _at(day: datetime.date, second: int, zone: ZoneInfo) -> datetime.datetime:
    whole = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(seconds=second)
    # Naive local wall time → aware: fold=0 picks the first of an ambiguous hour (DST end).
    return whole.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class EscalationStep:
    """At `at_percent` of the SLA time used, do `action` (notify_owner, notify_lead, raise_priority, reassign)."""

    at_percent: int
    action: str


ESCALATION_ACTIONS = ("notify_owner", "notify_lead", "raise_priority", "reassign_team")


def parse_escalations(data: Any) -> list[EscalationStep]:
    """Escalation steps from their JSON list, ordered by percentage; ValidationError names the index."""
    if not isinstance(data, list) or len(data) > 10:
        raise ValidationError({"escalations": "must be a list of at most 10 steps"})
    steps = []
    for i, item in enumerate(data):
        if not isinstance(item, Mapping) or set(item) != {"at_percent", "action"}:
            raise ValidationError({f"escalations[{i}]": "must be {\"at_percent\": int, \"action\": str}"})
        pct, action = item["at_percent"], item["action"]
        if isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 1000:
            raise ValidationError({f"escalations[{i}].at_percent": "must be an integer 1-1000"})
        if action not in ESCALATION_ACTIONS:
            raise ValidationError({f"escalations[{i}].action": "must be one of " + ", ".join(ESCALATION_ACTIONS)})
        steps.append(EscalationStep(pct, action))
    return sorted(steps, key=lambda s: s.at_percent)


def due_escalations(steps: list[EscalationStep], done_level: int, created: datetime.datetime,
                    due: datetime.datetime, now: datetime.datetime) -> list[tuple[int, EscalationStep]]:
    """Steps (1-based level, step) reached by `now` and not yet done (levels above `done_level`)."""
    span = max((due - created).total_seconds(), 1.0)
    used = (now - created).total_seconds() / span * 100
    return [(i + 1, s) for i, s in enumerate(steps) if i + 1 > done_level and used >= s.at_percent]


DEFAULT_DUE = datetime.timedelta(days=30)  # a ticket without an SLA still sorts in the work queue


def ticket_due_times(created: datetime.datetime, response_minutes: int | None, resolve_minutes: int | None,
                     cal: BusinessCalendar | None) -> tuple[datetime.datetime | None, datetime.datetime]:
    """(response due, resolution due) of a new ticket; without an SLA only a default resolution due."""
    if cal is None or resolve_minutes is None:
        return None, created + DEFAULT_DUE
    response = add_business_minutes(created, response_minutes, cal) if response_minutes else None
    return response, add_business_minutes(created, resolve_minutes, cal)
