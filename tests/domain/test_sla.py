"""SLA due times over business hours and escalation steps (F8)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from appliance.domain import sla
from appliance.domain.errors import ValidationError

OFFICE = {"hours": {d: ["08:00", "12:00", "13:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2025-12-25", "2025-12-26"]}


def test_office_hours_skip_lunch_nights_weekends_and_holidays() -> None:
    cal = sla.parse_calendar(OFFICE, "Europe/Berlin")
    # Mon 2025-03-03 11:00 Berlin (10:00 UTC) + 2 h of office time: 1 h before lunch, 1 h after → 14:00 local.
    assert sla.add_business_minutes(dt.datetime(2025, 3, 3, 10, 0), 120, cal) == dt.datetime(2025, 3, 3, 13, 0)
    # Fri 16:30 local + 60 min → Mon 08:30 local.
    assert sla.add_business_minutes(dt.datetime(2025, 3, 7, 15, 30), 60, cal) == dt.datetime(2025, 3, 10, 7, 30)
    # Wed 24 Dec 16:00 local + 2 h → the holidays are skipped: Mon 29 Dec 09:00 local (08:00 UTC).
    assert sla.add_business_minutes(dt.datetime(2025, 12, 24, 15, 0), 120, cal) == dt.datetime(2025, 12, 29, 8, 0)
    # Starting at night counts from the next opening.
    assert sla.add_business_minutes(dt.datetime(2025, 3, 4, 1, 0), 30, cal) == dt.datetime(2025, 3, 4, 7, 30)


def test_daylight_saving_change_is_in_local_time() -> None:
    cal = sla.parse_calendar({"hours": {"mon": ["08:00", "18:00"], "fri": ["08:00", "18:00"]}}, "Europe/Berlin")
    # Fri 28 Mar 2025 17:00 CET (16:00 UTC) + 2 h → Mon 31 Mar 09:00 CEST = 07:00 UTC.
    assert sla.add_business_minutes(dt.datetime(2025, 3, 28, 16, 0), 120, cal) == dt.datetime(2025, 3, 31, 7, 0)


def test_always_open_is_plain_addition() -> None:
    cal = sla.parse_calendar({}, "UTC")
    start = dt.datetime(2025, 1, 1, 23, 30)
    assert sla.add_business_minutes(start, 90, cal) == dt.datetime(2025, 1, 2, 1, 0)


@pytest.mark.parametrize("bad,field", [
    ({"hours": {"mon": ["8", "9"]}}, "calendar.hours.mon[0]"),
    ({"hours": {"mon": ["09:00", "08:00"]}}, "calendar.hours.mon[1]"),
    ({"hours": {"moon": ["08:00", "09:00"]}}, "calendar.hours.moon"),
    ({"hours": {"mon": ["08:00"]}}, "calendar.hours.mon"),
    ({"hours": {"mon": ["08:00", "25:00"]}}, "calendar.hours.mon[1]"),
    ({"hours": {}}, "calendar.hours"),
    ({"hours": {"mon": ["08:00", "09:00"]}, "holidays": ["tomorrow"]}, "calendar.holidays[0]"),
    ({"colour": "red"}, "calendar.colour"),
])
def test_bad_calendars_name_the_field(bad: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        sla.parse_calendar(bad, "UTC")
    assert field in info.value.fields


def test_unknown_time_zone() -> None:
    with pytest.raises(ValidationError) as info:
        sla.parse_calendar({}, "Mars/Olympus")
    assert "timezone" in info.value.fields


@given(st.integers(0, 5000), st.integers(0, 5000),
       st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)))
def test_more_minutes_never_finish_earlier(a: int, b: int, start: dt.datetime) -> None:
    cal = sla.parse_calendar(OFFICE, "Europe/Berlin")
    lo, hi = sorted((a, b))
    # Due times are in whole seconds.
    first = start.replace(microsecond=0)
    assert first <= sla.add_business_minutes(start, lo, cal) <= sla.add_business_minutes(start, hi, cal)


def test_escalation_steps_fire_once_in_order() -> None:
    steps = sla.parse_escalations([{"at_percent": 100, "action": "raise_priority"},
                                   {"at_percent": 50, "action": "notify_owner"}])
    created, due = dt.datetime(2025, 1, 1, 0, 0), dt.datetime(2025, 1, 1, 10, 0)
    assert sla.due_escalations(steps, 0, created, due, dt.datetime(2025, 1, 1, 4, 0)) == []
    half = sla.due_escalations(steps, 0, created, due, dt.datetime(2025, 1, 1, 5, 0))
    assert [(lvl, s.action) for lvl, s in half] == [(1, "notify_owner")]
    late = sla.due_escalations(steps, 1, created, due, dt.datetime(2025, 1, 1, 11, 0))
    assert [(lvl, s.action) for lvl, s in late] == [(2, "raise_priority")]
    with pytest.raises(ValidationError) as info:
        sla.parse_escalations([{"at_percent": 50, "action": "panic"}])
    assert "escalations[0].action" in info.value.fields


def test_ticket_due_times_default_without_sla() -> None:
    now = dt.datetime(2025, 1, 1)
    assert sla.ticket_due_times(now, None, None, None) == (None, now + sla.DEFAULT_DUE)
    cal = sla.BusinessCalendar.always_open()
    assert sla.ticket_due_times(now, 30, 60, cal) == (now + dt.timedelta(minutes=30), now + dt.timedelta(hours=1))
