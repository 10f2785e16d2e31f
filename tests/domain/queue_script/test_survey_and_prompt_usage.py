"""The survey statement with several questions and a scale, and which statements use a prompt."""
from __future__ import annotations

import pytest

from appliance.domain.queue_script import ScriptError, ScriptRun, Survey, parse
from appliance.domain.queue_script.usage import PromptUse, prompt_uses

SCRIPT = """\
hotprompt outage
menu welcome:
    1:
        play welcome
    2:
        collect number prompt=enter_number digits=4
survey overall welcome scale=4
queue
while waiting every=30:
    announce position
    offer_callback prompt=welcome
"""


def test_a_survey_asks_each_question_on_its_scale() -> None:
    run = ScriptRun(parse("survey overall helpful scale=3\nqueue\n"))
    assert run.next() == Survey("overall", ("overall", "helpful"), 3)
    one = ScriptRun(parse("survey overall\nqueue\n")).next()
    assert one.questions == ("overall",) and one.scale == 5


@pytest.mark.parametrize("text, message", [
    ("survey\nqueue\n", "1 to 5 prompt names"),
    ("survey a b c d e f\nqueue\n", "1 to 5 prompt names"),
    ("survey a scale=1\nqueue\n", "scale must be between 2 and 9"),
    ("survey a scale=x\nqueue\n", "scale must be a whole number"),
    ("survey a depth=3\nqueue\n", "unknown option 'depth'"),
])
def test_bad_surveys_are_refused_with_their_line(text, message) -> None:
    with pytest.raises(ScriptError) as exc:
        parse(text)
    assert any(p.line == 1 and message in p.message for p in exc.value.problems), exc.value.problems


def test_every_statement_playing_a_prompt_is_found() -> None:
    script = parse(SCRIPT)
    assert prompt_uses(script, "welcome") == [PromptUse(2, "menu"), PromptUse(4, "play"), PromptUse(7, "survey"),
                                              PromptUse(11, "offer_callback")]
    assert prompt_uses(script, "enter_number") == [PromptUse(6, "collect")]
    assert prompt_uses(script, "outage") == [PromptUse(1, "hotprompt")]
    assert prompt_uses(script, "nothing") == []


@pytest.mark.parametrize("text", [
    "when closed:\n    voicemail to=a@example.com\nqueue\n",
    "when open:\n    queue\nelse:\n    voicemail to=a@example.com\n",
    "menu m:\n    1:\n        queue\n    2:\n        voicemail to=a@example.com\n    timeout:\n        queue\n",
])
def test_voicemail_before_the_caller_is_in_line_is_fine(text) -> None:
    parse(text)


@pytest.mark.parametrize("text, line", [
    ("queue\nwhile waiting every=30:\n    when wait > 60:\n        voicemail to=a@example.com\n", 4),
    ("queue\nvoicemail to=a@example.com\n", 2),
    ("when open:\n    queue\nvoicemail to=a@example.com\n", 3),
    ("menu m:\n    1:\n        queue\nvoicemail to=a@example.com\n", 4),
])
def test_voicemail_once_queued_is_refused_because_the_queue_would_still_offer_the_call(text, line) -> None:
    with pytest.raises(ScriptError) as exc:
        parse(text)
    assert [(p.line, "voicemail cannot run once the caller is in line" in p.message)
            for p in exc.value.problems] == [(line, True)]
