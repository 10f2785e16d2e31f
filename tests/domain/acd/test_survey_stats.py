"""Survey statistics (B17): count, average, distribution, per question and per day, per queue or agent."""
from __future__ import annotations

import datetime

import pytest

from appliance.domain.acd.survey_stats import AnswerRow, summarise

D1, D2 = datetime.date(2026, 11, 2), datetime.date(2026, 11, 3)


def rows() -> list[AnswerRow]:
    return [AnswerRow("c1", "support", "u1", 1, 5, 5, D1), AnswerRow("c1", "support", "u1", 2, 4, 5, D1),
            AnswerRow("c2", "support", "u2", 1, 2, 5, D2), AnswerRow("c3", "sales", "u1", 1, 3, 5, D2)]


def test_totals_distribution_and_days() -> None:
    total = summarise(rows())["total"]
    assert total["calls"] == 3 and total["answers"] == 4 and total["average"] == 3.5
    assert total["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}
    assert total["per_day"] == [{"day": "2026-11-02", "answers": 2, "average": 4.5},
                                {"day": "2026-11-03", "answers": 2, "average": 2.5}]
    assert total["questions"] == [{"question": 1, "answers": 3, "average": 3.33},
                                  {"question": 2, "answers": 1, "average": 4.0}]


def test_groups_per_queue_and_per_agent() -> None:
    by_queue = {g["key"]: g for g in summarise(rows(), "queue")["groups"]}
    assert list(by_queue) == ["sales", "support"] and by_queue["support"]["calls"] == 2
    assert by_queue["support"]["average"] == round(11 / 3, 2)
    by_agent = {g["key"]: (g["answers"], g["average"]) for g in summarise(rows(), "agent")["groups"]}
    assert by_agent == {"u1": (3, 4.0), "u2": (1, 2.0)}


def test_nothing_answered_and_a_wrong_grouping() -> None:
    empty = summarise([])
    assert empty["total"]["answers"] == 0 and empty["total"]["average"] is None and empty["groups"] == []
    with pytest.raises(ValueError, match="queue, agent"):
        summarise(rows(), "team")
