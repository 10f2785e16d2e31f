"""B9 calendar (Swedish "kalender: ordinarie öppettider, allmänna helgdagar och avvikelser"): opening hours
per weekday, public holidays and dated exceptions, in the site's time zone."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.domain.acd.errors import AcdConfigError

Interval = tuple[time, time]
# time(0) as a closing time means midnight at the end of the day
END_OF_DAY = time(0)
# how far next_open/next_close look ahead before concluding "never"
SEARCH_DAYS = 400
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(text: str) -> list[Interval]:
    """Parse "08:00-12:00, 13:00-17:00" ("24:00" or "00:00" as a closing time is midnight); "" is closed."""
    out: list[Interval] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _RANGE.match(part)
        if not m:
            raise AcdConfigError(f"opening hours: {part!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = map(int, m.groups())
        if h2 == 24 and m2 == 0:
            h2 = 0
        try:
            out.append((time(h1, m1), time(h2, m2)))
        except ValueError:
            raise AcdConfigError(f"opening hours: {part!r} is not a valid time range") from None
    return out


def _check(intervals: Sequence[Interval], where: str) -> list[Interval]:
    ordered = sorted(intervals)
    last_end: time | None = None
    for start, end in ordered:
        if end != END_OF_DAY and end <= start:
            raise AcdConfigError(f"calendar {where}: {start:%H:%M}-{end:%H:%M} closes before it opens")
        if last_end is not None and (last_end == END_OF_DAY or start < last_end):
            raise AcdConfigError(f"calendar {where}: intervals overlap")
        last_end = end
    return ordered


def _contains(interval: Interval, wall: time) -> bool:
    start, end = interval
    return start <= wall and (end == END_OF_DAY or wall < end)


class OpeningCalendar:
    """When a queue is open. Precedence for a day: a dated exception, else a holiday (closed), else the week."""

    def __init__(self, tz: str | tzinfo, weekly: Mapping[int, Sequence[Interval]],
                 holidays: Iterable[date] = (), exceptions: Mapping[date, Sequence[Interval]] | None = None) -> None:
        try:
            self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        except (ZoneInfoNotFoundError, ValueError):
            raise AcdConfigError(f"calendar: unknown time zone {tz!r}") from None
        self.weekly: dict[int, list[Interval]] = {}
        for day, intervals in weekly.items():
            if day not in range(7):
                raise AcdConfigError(f"calendar: weekday {day!r} must be 0 (Monday) .. 6 (Sunday)")
            self.weekly[day] = _check(intervals, f"weekday {day}")
        self.holidays = frozenset(holidays)
        self.exceptions = {d: _check(v, d.isoformat()) for d, v in (exceptions or {}).items()}

    def hours_on(self, day: date) -> list[Interval]:
        """The opening intervals of a local date (empty: closed all day)."""
        if day in self.exceptions:
            return self.exceptions[day]
        if day in self.holidays:
            return []
        return self.weekly.get(day.weekday(), [])

    def _local(self, at: datetime | float) -> datetime:
        if isinstance(at, datetime):
            if at.tzinfo is None:
                raise AcdConfigError("calendar: naive datetime; pass an aware one or epoch seconds")
            return at.astimezone(self.tz)
        return datetime.fromtimestamp(at, self.tz)

    def is_open(self, at: datetime | float) -> bool:
        """True if open at this instant (an aware datetime or epoch seconds)."""
        local = self._local(at)
        wall = local.time().replace(tzinfo=None)
        return any(_contains(iv, wall) for iv in self.hours_on(local.date()))

    def is_holiday(self, at: datetime | float) -> bool:
        """True on a public holiday of the calendar (its local date), whatever a dated exception says."""
        return self._local(at).date() in self.holidays

    def _instant(self, day: date, wall: time) -> datetime:
        """The first instant whose local wall time reaches `wall` on `day`."""
        naive = datetime.combine(day, wall)
        early = naive.replace(tzinfo=self.tz)
        # (astimezone to the same zone would not normalise; a round trip through a timestamp does)
        if datetime.fromtimestamp(early.timestamp(), self.tz).replace(tzinfo=None) == naive:
            return early  # exists (when repeated in autumn, fold=0 is its first occurrence)
        # inside a spring-forward gap the wall time never happens; the opening is the transition itself.
        # PEP 495: in a gap fold=1 maps to the earlier instant and fold=0 to the later one; bisect between
        lo = naive.replace(tzinfo=self.tz, fold=1).timestamp()
        hi = early.timestamp()
        while hi - lo > 1.0:
            mid = (lo + hi) / 2.0
            if datetime.fromtimestamp(mid, self.tz).replace(tzinfo=None) >= naive:
                hi = mid
            else:
                lo = mid
        return datetime.fromtimestamp(round(hi), self.tz)

    def next_open(self, at: datetime | float) -> datetime | None:
        """`at` itself if open, else the next opening instant (in the calendar's zone); None if never."""
        local = self._local(at)
        if self.is_open(local):
            return local
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for start, _ in self.hours_on(day):
                instant = self._instant(day, start)
                if instant > local:
                    return instant
        return None

    def next_close(self, at: datetime | float) -> datetime | None:
        """When the opening in force at `at` ends (None if closed now or open for the whole search span)."""
        local = self._local(at)
        if not self.is_open(local):
            return None
        day = local.date()
        wall = local.time().replace(tzinfo=None)
        for offset in range(SEARCH_DAYS):
            current = day + timedelta(days=offset)
            for start, end in self.hours_on(current):
                if offset == 0 and not _contains((start, end), wall):
                    continue
                if offset > 0 and start != time(0):
                    return self._instant(current, time(0))
                if end != END_OF_DAY:
                    return self._instant(current, end)
                break
            else:
                return self._instant(current, time(0))
        return None
