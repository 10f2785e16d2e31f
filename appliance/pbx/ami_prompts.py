"""A queue script's prompts (`play`, `hotprompt`) with Asterisk, mixed into `AmiPbx`: the caller is redirected to
`acd-play,<prompt>,1`, whose Playback() plays it and `Set(ACD_PLAYED=<prompt>)` reports the end (a VarSet
event); the dialplan then takes the caller back to `acd-wait`.

The caller's language (hot prompts by language, B10) is set first as the channel's language (`Setvar` of
`CHANNEL(language)`, which pbx_builtin_setvar_helper hands to the CHANNEL function): Playback() then looks for
the recording under that language's sounds and falls back to the default one (main/file.c fileexists_core).
"""
from __future__ import annotations

import asyncio
from typing import Any

from hardware.ami import events as ev

from appliance.domain.queue_script import Play
from appliance.pbx.adapter import UnsupportedAction

PLAY_CONTEXT = "acd-play"
PLAYED_VARIABLE = "ACD_PLAYED"
PLAY_WAIT_S = 120.0  # the longest announcement we wait for before the script goes on regardless


class AmiPrompts:
    """Play one prompt and wait for its end; expects `AmiPbx`'s client, calls, by_uniqueid and `_safely`."""

    def _playing(self) -> dict[str, asyncio.Future]:
        return self.__dict__.setdefault("_play_futures", {})

    async def play(self, call_id: str, action: Play) -> Any:
        """Redirect the waiting caller to acd-play; returns when ACD_PLAYED arrives, an offer takes the caller
        away, the caller hangs up, or PLAY_WAIT_S passes."""
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        if call is None:
            return None
        if call.ringing or call.answered_by:
            raise UnsupportedAction(f"ami: prompt {action.prompt} not played: the caller is with an agent")
        waiting = self._playing()[call_id] = asyncio.get_running_loop().create_future()
        try:
            if action.language:
                await self._safely("language", self.client.send_action(  # type: ignore[attr-defined]
                    "Setvar", {"Channel": call.channel, "Variable": "CHANNEL(language)", "Value": action.language}))
            sent = await self._safely("play", self.client.redirect(  # type: ignore[attr-defined]
                call.channel, PLAY_CONTEXT, action.prompt, 1))
            if sent is None:
                raise UnsupportedAction(f"ami: prompt {action.prompt} not played (the PBX refused, see the log)")
            try:
                await asyncio.wait_for(waiting, PLAY_WAIT_S)
            except asyncio.TimeoutError:
                pass
        finally:
            self._playing().pop(call_id, None)
        return None

    def played(self, event: ev.VarSet) -> None:
        """ACD_PLAYED=<prompt>: the Playback() in acd-play is over."""
        call_id = self.by_uniqueid.get(event.channel.uniqueid)  # type: ignore[attr-defined]
        self.stop_waiting_for_prompt(call_id)

    def stop_waiting_for_prompt(self, call_id: str | None) -> None:
        """The prompt is over for this call (played, offered away, or the caller left)."""
        waiting = self._playing().get(call_id) if call_id else None
        if waiting is not None and not waiting.done():
            waiting.set_result(None)
