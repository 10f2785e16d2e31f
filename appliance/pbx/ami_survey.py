"""The after-call survey (B17) with Asterisk, mixed into `AmiPbx`: the caller stays in the dialplan after the agent
hangs up and answers there; the answers come back as channel variables.

How Asterisk does it (docs/asterisk.md): the script's survey step sets ACD_SURVEY on the caller's channel
(`Setvar`, the questions' prompts joined by `^`). `acd-dial` dials the agent with option `g` (app_dial.c:
"proceed with dialplan execution at the next priority in the current extension if the destination channel
hangs up"), so after an answered call with ACD_SURVEY set the caller goes to `acd-survey`, whose Read() takes
one key per question and `Set(ACD_SURVEY_ANSWER=<question>:<key>)` reports it: a VarSet event
(main/stasis_channels.c). The dialplan hangs up after the last question; the caller's Hangup ends the survey,
answered or not.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from hardware.ami import events as ev

from appliance.domain.queue_script import Survey

SURVEY_VARIABLE = "ACD_SURVEY"              # set by us: the prompts of the questions, joined by ^
SURVEY_ANSWER_VARIABLE = "ACD_SURVEY_ANSWER"  # set by acd-survey: "<question number>:<key or empty>"
SURVEY_DELIMITER = "^"                      # CUT()/FIELDQTY() delimiter; prompt names never hold it
SURVEY_QUESTION_S = 30.0                    # a prompt plus Read()'s 10 s timeout, with room to spare
SURVEY_GRACE_S = 15.0
SURVEYS_KEPT = 1000                         # finished surveys whose answers the bridge has not fetched yet


class AmiSurvey:
    """Survey state per call; expects `AmiPbx`'s client, calls, by_uniqueid and `_safely`."""

    def _survey_state(self) -> tuple[dict[str, list[str]], dict[str, asyncio.Future], OrderedDict]:
        d = self.__dict__
        return (d.setdefault("_survey_answers", {}), d.setdefault("_survey_waiting", {}),
                d.setdefault("_survey_done", OrderedDict()))

    async def survey_after(self, call_id: str, survey: Any) -> None:
        """Mark the caller's channel so the dialplan takes it to `acd-survey` after the agent hangs up."""
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        if call is None or not isinstance(survey, Survey):
            return
        prompts = [q for q in (survey.questions or (survey.prompt,)) if q]
        if not prompts or any(SURVEY_DELIMITER in p for p in prompts):
            return
        answers, _, _ = self._survey_state()
        answers[call_id] = [""] * len(prompts)
        await self._safely("survey", self.client.send_action(  # type: ignore[attr-defined]
            "Setvar", {"Channel": call.channel, "Variable": SURVEY_VARIABLE,
                       "Value": SURVEY_DELIMITER.join(prompts)}))

    def survey_answer(self, event: ev.VarSet) -> None:
        """ACD_SURVEY_ANSWER=<n>:<key> from acd-survey; anything malformed is ignored (not an answer)."""
        call_id = self.by_uniqueid.get(event.channel.uniqueid)  # type: ignore[attr-defined]
        answers, _, _ = self._survey_state()
        slots = answers.get(call_id) if call_id else None
        number, _, key = event.value.partition(":")
        if slots is None or not number.isdigit() or not 1 <= int(number) <= len(slots):
            return
        slots[int(number) - 1] = key.strip()

    def survey_over(self, call_id: str) -> None:
        """The caller's channel is gone: whatever was answered is the survey's result."""
        answers, waiting, done = self._survey_state()
        slots = answers.pop(call_id, None)
        if slots is None:
            return
        result = [key or None for key in slots]
        future = waiting.pop(call_id, None)
        if future is not None and not future.done():
            future.set_result(result)
            return
        done[call_id] = result  # the bridge asks after the caller left (a short survey, a quick hang-up)
        while len(done) > SURVEYS_KEPT:
            done.popitem(last=False)

    async def take_survey(self, call_id: str, survey: Survey) -> list[str | None] | None:
        """The answers of a survey the dialplan asks; None if it was never set up or the caller never came."""
        answers, waiting, done = self._survey_state()
        if call_id in done:
            return done.pop(call_id)
        if call_id not in answers:
            return None
        future = waiting[call_id] = asyncio.get_running_loop().create_future()
        questions = len(survey.questions or (survey.prompt,))
        try:
            return await asyncio.wait_for(future, questions * SURVEY_QUESTION_S + SURVEY_GRACE_S)
        except asyncio.TimeoutError:
            answers.pop(call_id, None)
            return None
        finally:
            waiting.pop(call_id, None)
