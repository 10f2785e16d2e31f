"""Which prompt version plays (B10): the active one, a scheduled window (the latest started wins), the queue
calendar's holiday before its closed hours before any window."""
from __future__ import annotations

import datetime

import pytest

from appliance.domain.acd.prompt_activation import Choice, Rule, choose_version

T0 = datetime.datetime(2026, 12, 24, 8, 0)


def at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def test_without_rules_the_active_version_plays() -> None:
    assert choose_version(3, [], T0) == Choice(3, "active")
    assert choose_version(None, [], T0) == Choice(None, "none")


def test_a_window_plays_only_inside_it_and_an_open_end_stays() -> None:
    rules = [Rule(2, "scheduled", at(1), at(2)), Rule(4, "scheduled", at(5))]
    assert choose_version(1, rules, at(0.5)).version == 1
    assert choose_version(1, rules, at(1)) == Choice(2, "scheduled")
    assert choose_version(1, rules, at(2)).version == 1, "the end is exclusive"
    assert choose_version(1, rules, at(500)) == Choice(4, "scheduled")


def test_of_overlapping_windows_the_latest_started_wins() -> None:
    rules = [Rule(2, "scheduled", at(0), at(10)), Rule(3, "scheduled", at(1), at(2))]
    assert choose_version(1, rules, at(1.5)).version == 3
    assert choose_version(1, rules, at(3)).version == 2


def test_calendar_rules_come_first_holiday_before_closed() -> None:
    rules = [Rule(2, "scheduled", at(0)), Rule(5, "closed"), Rule(7, "holiday")]
    assert choose_version(1, rules, at(1), holiday=True, closed=True) == Choice(7, "holiday")
    assert choose_version(1, rules, at(1), closed=True) == Choice(5, "closed")
    assert choose_version(1, rules, at(1)) == Choice(2, "scheduled")
    assert choose_version(1, [Rule(5, "closed")], at(1), holiday=True).version == 1, "no holiday rule: no change"


@pytest.mark.parametrize("kwargs, message", [
    ({"version": 1, "kind": "sometimes"}, "kind"),
    ({"version": 1, "kind": "scheduled"}, "starts_at"),
    ({"version": 1, "kind": "scheduled", "starts_at": at(2), "ends_at": at(1)}, "after"),
])
def test_bad_rules_are_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        Rule(**kwargs)
