"""After-call survey statistics (B17): count, average, distribution and the daily trend, per queue or per
agent, from the stored answers. Pure: rows in, figures out."""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

GROUPINGS = ("queue", "agent")


@dataclass(frozen=True)
class AnswerRow:
    """One stored answer."""

    call_id: str
    queue_key: str
    agent_id: str | None
    question: int
    answer: int
    scale_max: int
    day: datetime.date


def _average(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _figures(rows: list[AnswerRow]) -> dict[str, Any]:
    answers = [r.answer for r in rows]
    distribution: dict[int, int] = defaultdict(int)
    for value in answers:
        distribution[value] += 1
    top = max((r.scale_max for r in rows), default=5)
    days: dict[datetime.date, list[int]] = defaultdict(list)
    questions: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        days[r.day].append(r.answer)
        questions[r.question].append(r.answer)
    return {
        "calls": len({r.call_id for r in rows}), "answers": len(answers), "average": _average(answers),
        "scale_max": top,
        "distribution": {str(v): distribution.get(v, 0) for v in range(1, max(top, max(distribution, default=1)) + 1)},
        "per_day": [{"day": d.isoformat(), "answers": len(v), "average": _average(v)} for d, v in sorted(days.items())],
        "questions": [{"question": q, "answers": len(v), "average": _average(v)} for q, v in sorted(questions.items())],
    }


def summarise(rows: Iterable[AnswerRow], by: str = "queue") -> dict[str, Any]:
    """Figures for all rows together and per queue or agent (`by`), groups sorted by key."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    rows = list(rows)
    groups: dict[str, list[AnswerRow]] = defaultdict(list)
    for r in rows:
        groups[(r.queue_key if by == "queue" else r.agent_id) or "-"].append(r)
    return {"by": by, "total": _figures(rows),
            "groups": [{"key": key, **_figures(items)} for key, items in sorted(groups.items())]}
