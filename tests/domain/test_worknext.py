"""The universal work queue's choice (F15): skills, level, language, priority, SLA due time."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from appliance.domain import worknext as wn

T0 = dt.datetime(2025, 1, 1)


def cand(i, prio=3, due=0, skill=None, level=1, lang="") -> wn.Candidate:
    return wn.Candidate(i, prio, T0 + dt.timedelta(minutes=due), skill, level, lang)


def test_choice_order_and_eligibility() -> None:
    agent = wn.AgentAbility({1: 3}, frozenset({"de"}))
    tickets = [cand(1, prio=1, skill=1, level=4),       # needs more skill
               cand(2, prio=1, lang="fr"),               # wrong language
               cand(3, prio=2, due=50, skill=1, level=3),
               cand(4, prio=2, due=10, lang="de"),       # same priority, earlier due: wins
               cand(5, prio=3, due=0)]
    assert wn.choose(agent, tickets).id == 4
    assert wn.choose(agent, tickets[:2]) is None
    assert wn.choose(wn.AgentAbility({}, frozenset()), [cand(9, skill=2)]) is None


def test_probes_cover_no_skill_and_each_skill_with_languages() -> None:
    probes = wn.probes(wn.AgentAbility({5: 2, 3: 4}, frozenset({"fr", "de"})))
    assert probes[0] == wn.Probe(None, 5, ("", "de", "fr"))
    assert [(p.skill_id, p.max_level) for p in probes[1:]] == [(3, 4), (5, 2)]


cand_st = st.builds(cand, st.integers(1, 10**6), st.integers(1, 5), st.integers(0, 1000),
                    st.one_of(st.none(), st.integers(1, 4)), st.integers(1, 5), st.sampled_from(["", "de", "en", "fr"]))
agent_st = st.builds(wn.AgentAbility, st.dictionaries(st.integers(1, 4), st.integers(1, 5), max_size=4),
                     st.frozensets(st.sampled_from(["de", "en", "fr"]), max_size=2))


@given(agent_st, st.lists(cand_st, max_size=30, unique_by=lambda c: c.id))
def test_probe_heads_give_the_same_answer_as_a_full_scan(agent, tickets) -> None:
    """What the data layer does (the most urgent head of each probe) equals scanning everything."""
    heads = []
    for probe in wn.probes(agent):
        matching = [c for c in tickets if c.skill_id == probe.skill_id and c.language in probe.languages
                    and c.min_level <= probe.max_level]
        if matching:
            heads.append(min(matching, key=wn.urgency))
    assert wn.choose(agent, heads) == wn.choose_by_scan(agent, tickets)
