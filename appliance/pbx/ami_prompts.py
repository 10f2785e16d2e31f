"""A queue script's prompts (`play`, `hotprompt`) with Asterisk, mixed into `AmiPbx`: the caller is redirected to
`acd-play,<prompt>,1`, whose Playback() plays it and `Set(ACD_PLAYED=<prompt>)` reports the end (a VarSet
event); the dialplan then takes the caller back to `acd-wait`.

The caller's language (hot prompts by language, B10) is set first as the channel's language (`Setvar` of
`CHANNEL(language)`, which pbx_builtin_setvar_helper hands to the CHANNEL function): Playback() then looks for
the recording under that language's sounds and falls back to the default one (main/file.c fileexists_core).
"""
from __future__ import annotations

from typing import Any

from appliance.domain.queue_script import Play

PLAY_CONTEXT = "acd-play"
PLAYED_VARIABLE = "ACD_PLAYED"
PLAY_WAIT_S = 120.0  # the longest announcement we wait for before the script goes on regardless


class AmiPrompts:
    """Play one prompt and wait for its end: a dialplan visit like the IVR's (ami_ivr.py `_ivr_visit`), whose
    report is ACD_PLAYED."""

    async def play(self, call_id: str, action: Play) -> Any:
        """Redirect the waiting caller to acd-play; returns when ACD_PLAYED arrives, an offer takes the caller
        away, the caller hangs up, or PLAY_WAIT_S passes."""
        settings = {"CHANNEL(language)": action.language} if action.language else {}
        await self._ivr_visit(call_id, PLAY_CONTEXT, settings, PLAY_WAIT_S,  # type: ignore[attr-defined]
                              f"prompt {action.prompt}", exten=action.prompt)
        return None
