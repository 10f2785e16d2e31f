"""IVR verification mid-call and back (B12) with Asterisk, mixed into `AmiPbx`.

How (docs/asterisk.md): one `Redirect` with `ExtraChannel` (main/manager.c action_redirect, "Dual Redirect")
takes both parties out of their bridge at once: the caller to `acd-verify,<kind>,1`, whose Read() asks for the
digits and `Set(ACD_VERIFY=…)` reports them (a VarSet event), then hears music; the agent to `acd-hold,s,1`
(music). We then `Bridge` the two again (main/features.c action_bridge): each channel's after-bridge location is
where it was, one priority on, so when the agent hangs up the caller goes on to the survey or is hung up, and when
the caller hangs up the agent's channel is hung up by `acd-hold`.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from hardware.ami import events as ev

from appliance.pbx.adapter import UnsupportedAction

log = logging.getLogger(__name__)

VERIFY_CONTEXT = "acd-verify"    # extensions customer_number and digits: Read(), then Set(ACD_VERIFY=…)
HOLD_CONTEXT = "acd-hold"        # the agent waits here (music) while the caller is in acd-verify
VERIFY_VARIABLE = "ACD_VERIFY"
VERIFY_WAIT_S = 60.0             # the request prompt and Read()'s 20 s, twice over, before we give up


class AmiVerification:
    """The verification's commands and events; expects `AmiPbx`'s client, calls, by_uniqueid and `_safely`."""

    def _verify_waiting(self) -> dict[str, asyncio.Future]:
        return self.__dict__.setdefault("_verify_futures", {})

    async def verify(self, call_id: str, agent_id: str, kind: str) -> str | None:
        """Both parties out of their bridge (the caller to acd-verify, the agent to acd-hold), the digits from
        ACD_VERIFY, then bridged again; None if nothing was entered or a party left."""
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        if call is None or not call.agent_channel or call.ended:
            return None
        waiting = self._verify_waiting()[call_id] = asyncio.get_running_loop().create_future()
        call.verifying = True
        try:
            sent = await self._safely("verify", self.client.send_action("Redirect", {  # type: ignore[attr-defined]
                "Channel": call.channel, "Context": VERIFY_CONTEXT, "Exten": kind, "Priority": "1",
                "ExtraChannel": call.agent_channel, "ExtraContext": HOLD_CONTEXT, "ExtraExten": "s",
                "ExtraPriority": "1"}))
            if sent is None:
                raise UnsupportedAction("the PBX did not take the caller to the verification (see the log)")
            try:
                digits = await asyncio.wait_for(waiting, VERIFY_WAIT_S)
            except asyncio.TimeoutError:
                digits = None
        finally:
            self._verify_waiting().pop(call_id, None)
            call.verifying = False
        if call_id not in self.calls:  # type: ignore[attr-defined]
            return None  # the caller hung up in the IVR (the agent's channel was hung up with it)
        if call.ended:  # the agent gave up waiting: nobody to come back to
            await self._safely("hangup", self.client.hangup(call.channel))  # type: ignore[attr-defined]
            return None
        await self._safely("bridge back", self.client.bridge(call.channel, call.agent_channel))  # type: ignore
        return digits or None

    def verify_event(self, event: ev.VarSet) -> None:
        """ACD_VERIFY=<digits> from acd-verify (empty: nothing entered)."""
        call_id = self.by_uniqueid.get(event.channel.uniqueid)  # type: ignore[attr-defined]
        waiting = self._verify_waiting().get(call_id) if call_id else None
        if waiting is not None and not waiting.done():
            waiting.set_result(event.value.strip())

    def verify_party_left(self, call: Any, caller_left: bool) -> None:
        """A party of this call (an `AmiCall`) hung up during the verification: stop waiting; a caller gone
        leaves the agent's channel on hold in acd-hold, so it is hung up."""
        waiting = self._verify_waiting().get(call.call_id)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)
        if caller_left and call.agent_channel:
            task = asyncio.ensure_future(self._safely("hangup", self.client.hangup(call.agent_channel)))  # type: ignore
            self.__dict__.setdefault("_verify_tasks", set()).add(task)
            task.add_done_callback(self.__dict__["_verify_tasks"].discard)
