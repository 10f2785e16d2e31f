"""Erlang B/C against published values, a factorial formula for small cases, and large-N stability."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.domain.acd.erlang import (agents_needed, average_speed_of_answer, erlang_b, erlang_c, occupancy,
                                         offered_traffic, service_level)
from appliance.domain.acd.errors import InvalidValue


def erlang_c_by_factorials(c: int, a: float) -> float:
    """The textbook closed form, fine for small c: an independent check on the recurrence."""
    top = a ** c / math.factorial(c) * c / (c - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)


def test_published_values() -> None:
    # Erlang B table: 10 lines offered 5 Erlangs block 1.838 %; Erlang C, 10 agents at 8 Erlangs wait 40.9 %
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)
    assert erlang_c(10, 8.0) == pytest.approx(0.409180, abs=1e-6)
    # the common worked example: 100 calls per 30 min of 180 s (10 Erlangs), target 80 % within 20 s:
    # 13 agents reach 79.6 % (ASA 17.1 s), so 14 are needed
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=1e-4)
    assert average_speed_of_answer(13, 10.0, 180) == pytest.approx(17.12, abs=0.01)
    assert agents_needed(100 / 1800, 180, 0.8, 20) == 14


@given(st.integers(1, 40), st.floats(0.05, 0.98))
def test_recurrence_matches_the_factorial_formula(c: int, load: float) -> None:
    a = c * load
    assert erlang_c(c, a) == pytest.approx(erlang_c_by_factorials(c, a), rel=1e-9)


def test_large_sites_stay_finite() -> None:
    c = erlang_c(20000, 19800.0)
    assert 0.0 < c < 1.0
    assert service_level(20000, 19800.0, 180, 20) > 0.0
    assert erlang_b(50000, 100.0) == 0.0 or erlang_b(50000, 100.0) < 1e-300


@given(st.integers(1, 200), st.floats(0.0, 300.0), st.floats(1.0, 600.0), st.floats(0.0, 120.0))
def test_service_level_and_asa_are_sane(c: int, a: float, h: float, t: float) -> None:
    sl = service_level(c, a, h, t)
    assert 0.0 <= sl <= 1.0
    assert service_level(c, a, h, t + 10) >= sl - 1e-12
    asa = average_speed_of_answer(c, a, h)
    if a >= c:
        assert asa == math.inf and sl == 0.0
    else:
        assert asa >= 0.0
        assert erlang_c(c + 1, a) <= erlang_c(c, a) + 1e-12
    assert 0.0 <= occupancy(c, a) <= 1.0


@given(st.floats(0.001, 2.0), st.floats(10.0, 600.0), st.floats(0.5, 0.95), st.floats(5.0, 60.0))
def test_agents_needed_is_the_smallest_that_meets_the_target(rate: float, h: float, goal: float, t: float) -> None:
    n = agents_needed(rate, h, goal, t)
    a = offered_traffic(rate, h)
    assert service_level(n, a, h, t) >= goal
    assert n - 1 <= a or service_level(n - 1, a, h, t) < goal


def test_bad_arguments_raise_the_declared_error() -> None:
    for bad in [lambda: erlang_c(-1, 1.0), lambda: erlang_b(3, -1.0), lambda: erlang_c(2, math.nan),
                lambda: agents_needed(1.0, 10, 1.0, 20), lambda: offered_traffic(1.0, 0.0),
                lambda: service_level(3, 1.0, 0.0, 1.0)]:
        with pytest.raises(InvalidValue):
            bad()
