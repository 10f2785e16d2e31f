"""Team limits in the universal work queue (F3, F15): which mailboxes, how many tickets held."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from appliance.domain import worknext as wn

T0 = dt.datetime(2025, 1, 1)
TREE = {1: None, 2: 1, 3: 2, 4: None, 5: 4}  # 1 > 2 > 3, 4 > 5


def cand(i, prio=3, box=None) -> wn.Candidate:
    return wn.Candidate(i, prio, T0, None, 1, "", box)


def test_teams_combine_mailboxes_with_their_sub_mailboxes_and_the_smallest_cap() -> None:
    assert wn.team_limits([], TREE) == wn.NO_LIMITS
    assert wn.team_limits([{"text_blocks": []}], TREE) == wn.NO_LIMITS  # other settings limit nothing
    limits = wn.team_limits([{"mailbox_ids": [2]}, {"mailbox_ids": [5], "max_open_tickets": 3},
                             {"max_open_tickets": 7}], TREE)
    assert limits == wn.WorkLimits(frozenset({2, 3, 5}), 3)
    assert wn.team_limits([{"mailbox_ids": []}], TREE).mailboxes == frozenset()  # only tickets in no mailbox
    assert wn.team_limits([{"mailbox_ids": "x", "max_open_tickets": 2}], TREE) == wn.NO_LIMITS
    assert wn.with_descendants({9}, {9: 10, 10: 9}) == {9, 10}  # a cycle ends the walk


def test_choice_honours_mailboxes_and_the_cap() -> None:
    agent = wn.AgentAbility({}, frozenset())
    tickets = [cand(1, prio=1, box=4), cand(2, prio=2, box=3), cand(3, prio=3)]
    limits = wn.WorkLimits(frozenset({2, 3}), 2)
    assert wn.choose(agent, tickets).id == 1
    assert wn.choose(agent, tickets, limits).id == 2
    assert wn.choose(agent, tickets, limits, held=1).id == 2
    assert wn.choose(agent, tickets, limits, held=2) is None
    assert wn.choose(agent, tickets, wn.WorkLimits(frozenset())).id == 3


def test_settings_problems_name_the_key() -> None:
    assert wn.settings_problems({"mailbox_ids": [1, 2], "max_open_tickets": 5, "other": 1}) == {}
    assert set(wn.settings_problems({"mailbox_ids": [0, True], "max_open_tickets": 0})) == {
        "mailbox_ids", "max_open_tickets"}
    assert "from 1 to" in wn.settings_problems({"max_open_tickets": 10**6})["max_open_tickets"]


limits_st = st.builds(wn.WorkLimits, st.one_of(st.none(), st.frozensets(st.integers(1, 5), max_size=5)),
                      st.one_of(st.none(), st.integers(1, 4)))


@given(st.lists(st.builds(cand, st.integers(1, 10**6), st.integers(1, 5), st.one_of(st.none(), st.integers(1, 5))),
                max_size=20, unique_by=lambda c: c.id), limits_st, st.integers(0, 5))
def test_limited_choice_is_the_unlimited_choice_among_allowed_tickets(tickets, limits, held) -> None:
    agent = wn.AgentAbility({}, frozenset())
    allowed = [c for c in tickets if c.mailbox_id is None or limits.mailboxes is None or c.mailbox_id in limits.mailboxes]
    expected = None if limits.max_open is not None and held >= limits.max_open else wn.choose(agent, allowed)
    assert wn.choose(agent, tickets, limits, held) == expected
