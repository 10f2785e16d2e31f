"""Queue scripts: validation with line numbers, and callers walking through them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from appliance.domain.queue_script import (Announce, Collect, Enqueue, Hangup, Lookup, Menu, OfferCallback,
                                           Overflow, Play, ScriptError, ScriptRun, SetVar, Survey, Voicemail,
                                           parse)

LANGUAGE_DOC = Path(__file__).resolve().parents[3] / "appliance/domain/queue_script/language.md"


def example_script() -> str:
    text = LANGUAGE_DOC.read_text()
    return re.search(r"```\n(.*?)```", text, re.S).group(1)


def drive(run: ScriptRun, answers: dict[type, object] | None = None) -> list:
    """Run until the script has nothing to do, answering actions that need a result."""
    answers = answers or {}
    actions, result = [], None
    while (action := run.next(result)) is not None:
        actions.append(action)
        result = answers.get(type(action))
        if callable(result):
            result = result(action)
    return actions


def test_the_documented_example_is_valid_and_runs() -> None:
    script = parse(example_script())
    assert {"closed_hours", "outage", "choose_language", "enter_customer_number"} <= script.prompts
    assert script.queues == {"backoffice"}
    run = ScriptRun(script, {"closed": False, "agents_logged_in": 3})
    actions = drive(run, {Menu: "2", Collect: "123456", Lookup: {"customer_known": True}})
    kinds = [type(a) for a in actions]
    assert kinds == [Play, Menu, SetVar, Collect, Lookup, Survey, Enqueue]
    assert actions[0] == Play("outage", hot=True)
    assert actions[2] == SetVar("language", "en")
    assert run.facts["customer_number"] == "123456" and run.queued
    assert actions[-1] == Enqueue()


def test_closed_queue_takes_a_voicemail() -> None:
    run = ScriptRun(parse(example_script()), {"closed": True})
    actions = drive(run)
    assert actions == [Play("closed_hours"), Voicemail("support@example.com", None, 120.0)]
    assert run.finished


def test_no_agents_overflows() -> None:
    actions = drive(ScriptRun(parse(example_script()), {"closed": False, "agents_logged_in": 0}))
    assert actions == [Overflow(queue="backoffice")]


def test_menu_retries_then_takes_the_timeout_branch() -> None:
    run = ScriptRun(parse(example_script()), {"closed": False, "agents_logged_in": 1})
    actions = drive(run, {Menu: None})
    menus = [a for a in actions if isinstance(a, Menu)]
    assert len(menus) == 3  # first try + retries=2
    assert SetVar("language", "sv") in actions


def test_invalid_digits_leave_the_variable_unset() -> None:
    run = ScriptRun(parse(example_script()), {"closed": False, "agents_logged_in": 1})
    drive(run, {Menu: "1", Collect: "12"})
    assert run.facts["customer_number"] is None


def test_waiting_rounds_announce_and_offer_callback_after_three_minutes() -> None:
    run = ScriptRun(parse(example_script()), {"closed": False, "agents_logged_in": 1})
    drive(run, {Menu: "1", Collect: "1234"})
    run.update({"wait": 60})
    run.waiting_round()
    assert drive(run) == [Announce(True, True)]
    run.update({"wait": 200})
    run.waiting_round()
    actions = drive(run, {OfferCallback: True})
    assert actions == [Announce(True, True), OfferCallback("callback_offer")]
    assert run.finished and run.facts["callback_taken"]
    run.waiting_round()
    assert run.next() is None


def test_time_conditions_and_else() -> None:
    script = parse('when between(time, "08:00", "17:00") and weekday < 5:\n    queue\nelse:\n    hangup\n')
    assert drive(ScriptRun(script, {"time": "09:30", "weekday": 2})) == [Enqueue()]
    assert drive(ScriptRun(script, {"time": "18:00", "weekday": 2})) == [Hangup()]
    night = parse('when between(time, "22:00", "06:00"):\n    hangup\nqueue\n')
    assert drive(ScriptRun(night, {"time": "23:10"})) == [Hangup()]
    assert drive(ScriptRun(night, {"time": "12:00"})) == [Enqueue()]


@pytest.mark.parametrize("text, line, fragment", [
    ("plya welcome\nqueue\n", 1, "unknown statement 'plya'"),
    ("play welcome\nwhen wiat > 3:\n    hangup\nqueue\n", 2, "unknown variable 'wiat'"),
    ("when __import__('os'):\n    hangup\nqueue\n", 1, "not allowed"),
    ("queue\nwhile waiting every=2:\n    announce position\n", 2, "every must be between"),
    ("while waiting:\n    announce position\n", 1, "comes after 'queue'"),
    ("menu hello:\n    1:\n        queue\n    1:\n        hangup\n", 4, "given twice"),
    ("collect x digits=10..2\nqueue\n", 1, "smallest first"),
    ("set priority=high\nqueue\n", 1, "priority must be a whole number"),
    ("overflow queue=nowhere\n", 1, "no queue named 'nowhere'"),
    ("play missing_prompt\nqueue\n", 1, "no prompt named"),
    ("voicemail to=not-an-address\n", 1, "e-mail address"),
    ("play welcome\n", 1, "never queues"),
    ("queue\nwhile waiting every=30:\n    menu m:\n        1:\n            hangup\n", 3, "cannot be used while"),
    ("  play welcome\n queue\n", 2, ""),
    ("else:\n    hangup\n", 1, "must follow a 'when"),
    ("when wait > 3\n    hangup\nqueue\n", 1, "needs ':'"),
    ("play 'unterminated\nqueue\n", 1, "cannot read this line"),
])
def test_problems_name_their_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ScriptError) as info:
        parse(text, prompts={"welcome", "hello", "m"}, queues={"sales"})
    assert any(p.line == line and fragment in p.message for p in info.value.problems), info.value.problems


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ScriptError) as info:
        parse("plya x\nset priority=99\nannounce nothing\nqueue\n")
    assert [p.line for p in info.value.problems] == [1, 2, 3]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("abcdeqpluywnt:=_ #\n0123456789.'\"()<>") + [
    "    ", "queue", "when ", "menu ", "play ", "while waiting", "else:", "\n    "]), max_size=80).map("".join))
def test_garbage_is_refused_with_line_numbers_or_accepted_never_crashes(text: str) -> None:
    try:
        script = parse(text)
    except ScriptError as exc:
        assert exc.problems and all(p.line >= 0 for p in exc.problems)
        return
    run = ScriptRun(script, {})
    for _ in range(50):
        if run.next("1") is None:
            break


def test_hash_is_a_menu_key_not_a_comment() -> None:
    run = ScriptRun(parse("menu m:\n    1:\n        set skill=a\n    #:  # the hash key\n        set skill=b\nqueue\n"))
    assert run.next(None) == Menu("m", ("1", "#"), 5.0)
    assert run.next("#") == SetVar("skill", "b")
    with pytest.raises(ScriptError):
        parse("menu m:\n    #: set skill=b\n    1:\n        queue\n")
