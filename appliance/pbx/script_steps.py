"""Queue scripts run per caller (B8): the facts a script's conditions test, and each step carried out on the
PBX and the ACD; mixed into the PBX bridge (`AcdBridge`), whose calls, engine and adapter they work on.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from appliance.domain.acd import AcdError, Call, CallState
from appliance.domain.acd.calls import WAITING_STATES
from appliance.domain.acd.views import call_estimated_wait, position
from appliance.domain.queue_script import (Announce, Collect, Enqueue, Hangup, Lookup, Menu, OfferCallback, Overflow,
                                           Play, ScriptRun, SetVar, Survey, Voicemail)
from appliance.pbx.adapter import Recording, RecordingLost, UnsupportedAction

if TYPE_CHECKING:
    from appliance.pbx.bridge import CallMeta

IDENTIFY_WAIT_S = 1.0       # longest a new call waits for caller identification before its script starts


class ScriptSteps:
    """Run a queue's script for one caller, step by step."""

    def facts(self, meta: CallMeta) -> dict[str, Any]:
        """What a script's conditions can test about this call right now."""
        engine, now = self.engine, self.clock()
        logged_in, working, free = engine.staffing(meta.queue_id)
        local = time.localtime(self.wall())
        queue = engine.queue(meta.queue_id)
        is_open = queue.calendar.is_open(self.wall()) if queue.calendar is not None else True
        facts: dict[str, Any] = {
            "agents_logged_in": logged_in, "agents_ready": free, "agents_busy": working - free,
            "agents_paused": max(0, logged_in - working), "waiting": engine.waiting_count(meta.queue_id),
            "wait": round(now - meta.arrived, 1), "hour": local.tm_hour, "minute": local.tm_min,
            "weekday": local.tm_wday, "time": time.strftime("%H:%M", local), "open": is_open,
            "closed": not is_open, "caller": meta.caller, "dialled": meta.dialled, "digits": meta.digits,
        }
        call = self._call_or_none(meta.call_id)
        if call is not None and call.state in WAITING_STATES:
            try:
                facts["position"] = position(engine, meta.call_id)
                facts["ewt"] = call_estimated_wait(engine, meta.call_id)
            except AcdError:
                pass
        return facts

    async def _run_script(self, meta: CallMeta) -> None:
        if meta.identified is not None:
            # A local lookup takes milliseconds; waiting for it lets the offer carry the customer (D5).
            await asyncio.wait([meta.identified], timeout=IDENTIFY_WAIT_S)
        script = self.scripts.get(meta.queue_id)
        if script is None:
            self._enqueue(meta, {})
            return
        run = meta.run = ScriptRun(script)
        result: Any = None
        while True:
            run.update(self.facts(meta))
            action = run.next(result)
            result = None
            if action is None:
                if not (run.queued and not run.finished and script.waiting):
                    return
                await asyncio.sleep(script.waiting_every_s * self.time_scale)
                call = self._call_or_none(meta.call_id)
                if call is None or call.state is not CallState.QUEUED:
                    return
                run.waiting_round()
                continue
            result = await self._do(meta, run, action)

    async def _do(self, meta: CallMeta, run: ScriptRun, action: Any) -> Any:
        if isinstance(action, SetVar):
            return None
        if isinstance(action, Enqueue):
            if action.requeue and self._call_or_none(meta.call_id) is not None:
                return None  # still in the ACD: nothing to do
            self._enqueue(meta, run.facts, action)
            return None
        if isinstance(action, Overflow):
            if action.queue:
                meta.queue_id = action.queue
                meta.notes.append(f"script overflow to queue {action.queue}")
                run.finished = True
                self._enqueue(meta, run.facts)
            else:
                meta.outcome = "overflowed"
                meta.notes.append(f"script overflow to {action.number}")
                await self.adapter.redirect(meta.call_id, action.number or "")
                self._finish(meta)
            return None
        if isinstance(action, Hangup):
            meta.outcome = "script_hangup"
            await self.adapter.hangup(meta.call_id)
            self._finish(meta, loss="closed")
            return None
        if isinstance(action, Survey):
            meta.survey_prompt, meta.survey = action.prompt, action
            await self.adapter.survey_after(meta.call_id, action)
            return None
        if isinstance(action, Lookup):
            if self.identify is None:
                return {"customer_known": False}
            if meta.identified is not None and not meta.identified.done():
                await asyncio.wait([meta.identified])
            meta.customer = await self.identify(meta.caller, meta.digits, meta.queue_id) or {}
            return {"customer_known": bool(meta.customer), "customer_number": meta.customer.get("number")}
        if isinstance(action, Announce):  # the numbers as the queue has them now; the PBX says them
            action = replace(action, position_now=run.facts.get("position"), wait_s=run.facts.get("ewt"))
        if isinstance(action, (Menu, Collect)):  # their prompts too, as a play step's
            action = replace(action, language=self._caller_language(meta, run))
        if isinstance(action, Play):  # in the caller's language where the PBX has that recording
            action = replace(action, language=self._caller_language(meta, run))
        if isinstance(action, Play) and action.hot:
            switch = self.hot_language(meta.queue_id, action.prompt, action.language)
            if switch is None:
                return None  # a hot prompt plays only while switched on (for this caller's language or for all)
            note = f"hot prompt {action.prompt} ({'language ' + switch if switch else 'every caller'})"
            if note not in meta.notes:  # a hot prompt in the waiting loop plays every round: noted once
                meta.notes.append(note)
        try:
            result = await self.adapter.perform(meta.call_id, action)
        except (UnsupportedAction, RecordingLost) as exc:
            meta.notes.append(str(exc))
            if isinstance(action, Voicemail):  # the script ended with this step: no caller is left waiting
                meta.outcome = "voicemail"
                await self.adapter.hangup(meta.call_id)
                self._finish(meta)
            return None
        if isinstance(action, OfferCallback) and result:
            call = self._call_or_none(meta.call_id)
            number = meta.caller
            if call is not None and call.state is CallState.QUEUED:
                self._guard("callback", lambda: self.engine.request_callback(meta.call_id, number, self.clock()))
                meta.outcome = "callback_requested"
                await self.adapter.hangup(meta.call_id)
        if isinstance(action, Voicemail):
            meta.outcome = "voicemail"
            meta.notes.append(f"voice message for {action.to}")
            await self._keep_voicemail(meta, action, result)
            self._finish(meta)
        if isinstance(result, str) and result.isdigit() and len(result) > 1:
            meta.digits = result
        return result

    def _caller_language(self, meta: CallMeta, run: ScriptRun) -> str | None:
        """The caller's language: the script's `set language=…`, else what caller routing gave the call."""
        if run.facts.get("language"):
            return str(run.facts["language"])
        call = self._call_or_none(meta.call_id)
        return call.language if call is not None else None

    async def _keep_voicemail(self, meta: CallMeta, action: Voicemail, result: Any) -> None:
        # The audio goes to the store before the call is recorded, so the record only carries its reference.
        if not isinstance(result, Recording) or not result.audio:
            meta.notes.append("no voice message recorded")
            return
        if self.keep_recording is None:
            meta.notes.append("voice message not kept: no document store")
            return
        try:
            meta.voicemail = {"to": action.to, **await self.keep_recording(result)}
        except OSError as exc:
            meta.notes.append(f"voice message not kept: {exc}")

    async def _identify_early(self, meta: CallMeta) -> None:
        assert self.identify is not None
        found = await self.identify(meta.caller, meta.digits, meta.queue_id)
        if found and not meta.customer:
            meta.customer = found

    def _enqueue(self, meta: CallMeta, facts: dict[str, Any], action: Enqueue | None = None) -> None:
        call = Call(meta.call_id, caller=meta.caller, dialled=meta.dialled, entered_digits=meta.digits,
                    language=facts.get("language"), priority=int(facts.get("priority") or 0))
        if action is not None and action.priority is not None:
            call.priority = action.priority
        skill = (action.skill if action else None) or facts.get("skill")
        if skill:
            call.required_skill = skill
        self._guard(f"enqueue {meta.call_id}", lambda: self.engine.enqueue(call, meta.queue_id, self.clock()))
