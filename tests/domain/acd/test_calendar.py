"""B9 calendar: weekly hours, public holidays, dated exceptions, time zones and DST."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.domain.acd import AcdConfigError, OpeningCalendar, parse_hours

STHLM = ZoneInfo("Europe/Stockholm")
WEEKDAYS = {d: parse_hours("08:00-12:00, 13:00-17:00") for d in range(5)}


def at(y: int, mo: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = STHLM) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def make() -> OpeningCalendar:
    return OpeningCalendar("Europe/Stockholm", WEEKDAYS, holidays=[date(2026, 6, 19)],  # midsummer eve
                           exceptions={date(2026, 6, 20): parse_hours("10:00-14:00"),  # a special Saturday
                                       date(2026, 6, 22): []})  # closed Monday


def test_weekly_hours_with_a_lunch_break() -> None:
    cal = make()
    assert cal.is_open(at(2026, 6, 17, 8))
    assert not cal.is_open(at(2026, 6, 17, 7, 59))
    assert not cal.is_open(at(2026, 6, 17, 12, 30))
    assert not cal.is_open(at(2026, 6, 17, 17))
    assert cal.next_open(at(2026, 6, 17, 12, 30)) == at(2026, 6, 17, 13)
    assert cal.next_close(at(2026, 6, 17, 9)) == at(2026, 6, 17, 12)


def test_holidays_and_exceptions_take_precedence() -> None:
    cal = make()
    assert not cal.is_open(at(2026, 6, 19, 10))  # holiday on a Friday
    assert cal.next_open(at(2026, 6, 19, 10)) == at(2026, 6, 20, 10)  # the special Saturday
    assert not cal.is_open(at(2026, 6, 22, 10))  # exception: closed Monday
    assert cal.next_open(at(2026, 6, 20, 15)) == at(2026, 6, 23, 8)


def test_instants_in_other_zones_and_epoch_seconds() -> None:
    cal = make()
    utc_morning = datetime(2026, 6, 17, 6, 30, tzinfo=timezone.utc)  # 08:30 CEST
    assert cal.is_open(utc_morning) and cal.is_open(utc_morning.timestamp())
    with pytest.raises(AcdConfigError):
        cal.is_open(datetime(2026, 6, 17, 9))  # naive


def test_dst_spring_forward_gap_and_fall_back() -> None:
    cal = OpeningCalendar("Europe/Stockholm", {6: [(time(2, 30), time(4))]})  # Sundays 02:30-04:00
    # 2026-03-29: clocks jump 02:00 → 03:00, so 02:30 does not exist; opening is at 03:00 CEST (01:00 UTC)
    opened = cal.next_open(at(2026, 3, 29, 1))
    assert opened is not None and opened.astimezone(timezone.utc) == datetime(2026, 3, 29, 1, tzinfo=timezone.utc)
    # 2026-10-25: 02:30 happens twice; both instants are open
    first = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)
    assert cal.is_open(first) and cal.is_open(second)


def test_open_through_midnight_and_never_open() -> None:
    cal = OpeningCalendar("UTC", {0: parse_hours("20:00-24:00"), 1: parse_hours("00:00-02:00")})
    assert cal.next_close(datetime(2026, 6, 15, 23, tzinfo=timezone.utc)) == \
        datetime(2026, 6, 16, 2, tzinfo=ZoneInfo("UTC"))
    assert OpeningCalendar("UTC", {}).next_open(0.0) is None


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(AcdConfigError):
        parse_hours("8-17")
    with pytest.raises(AcdConfigError):
        parse_hours("17:00-08:00x")
    with pytest.raises(AcdConfigError):
        OpeningCalendar("UTC", {0: parse_hours("17:00-08:00")})
    with pytest.raises(AcdConfigError):
        OpeningCalendar("UTC", {0: parse_hours("08:00-12:00,11:00-13:00")})
    with pytest.raises(AcdConfigError):
        OpeningCalendar("UTC", {7: []})
    with pytest.raises(AcdConfigError):
        OpeningCalendar("Mars/Olympus", {})


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(timezone.utc)))
def test_next_open_is_open_and_nothing_before_it_is(moment: datetime) -> None:
    cal = make()
    opened = cal.next_open(moment)
    assert opened is not None and opened >= moment and cal.is_open(opened)
    if opened > moment:
        # the minute before the opening is closed (openings are on whole minutes)
        assert not cal.is_open(opened.timestamp() - 60) or opened.timestamp() - 60 < moment.timestamp()
