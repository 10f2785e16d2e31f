"""Asterisk's side of mute, consultation, attended transfer and three-way (B3, B12), mixed into `AmiPbx`.

What Asterisk really does (main/bridge_basic.c, the attended transfer state machine, Asterisk 12 and later):
`Atxfer` on the agent's channel queues the atxfer feature code and the target's digits on it, so the agent
must be allowed to transfer (Dial option `T` in `acd-dial`). Asterisk puts the customer on hold, moves the
agent into a new bridge with a `Local/<target>@acd-consult` channel whose other half dials the target:
its `DialEnd` says ANSWER (consulting) or BUSY/NOANSWER/… (Asterisk returns the agent to the customer).
From then on the transferer's DTMF features steer the state machine, which we press with `PlayDTMF` and
`Receive: true` (features.conf defaults): `*2` completes (the customer and the target are joined, the
agent is dropped: `AttendedTransfer` with `DestType: Bridge`), `*1` aborts (back to the customer), `*3`
joins all three (`AttendedTransfer` with `DestType: Threeway`). Leaving a three-way is hanging up one's
own channel; the other two stay bridged. Mute is `MuteAudio` on the agent's channel, direction `in`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hardware.ami import events as ev

log = logging.getLogger(__name__)

CONSULT_CONTEXT = "acd-consult"
# features.conf defaults (features_config.c): atxferabort, atxfercomplete, atxferthreeway
ATXFER_ABORT, ATXFER_COMPLETE, ATXFER_THREEWAY = "*1", "*2", "*3"
FAILED_DIAL = {"BUSY": "busy", "NOANSWER": "no_answer", "CHANUNAVAIL": "no_answer", "CONGESTION": "busy"}


def dtmf_digits(target: str) -> str:
    """The target as DTMF digits for Atxfer: a leading + becomes the international prefix 00."""
    return "00" + target[1:] if target.startswith("+") else target


@dataclass
class AmiConsult:
    """One consultation in progress on a call."""

    target: str
    digits: str
    state: str = "ringing"
    target_channel: str = ""  # the consulted phone's channel, once it answered

    @property
    def local_prefix(self) -> str:
        """The name start of the Local channel Asterisk creates to dial the target."""
        return f"Local/{self.digits}@{CONSULT_CONTEXT}-"


class AmiCallControl:
    """Consultation commands and events; expects `AmiPbx`'s client, calls, sink and `_safely`."""

    def _consults(self) -> dict[str, AmiConsult]:
        return self.__dict__.setdefault("_consult_by_call", {})

    def _agent_channel(self, call_id: str) -> str:
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        return getattr(call, "agent_channel", "") if call is not None else ""

    async def _features(self, channel: str, code: str) -> None:
        for digit in code:  # PlayDTMF takes one digit per action
            await self._safely("dtmf", self.client.send_action(  # type: ignore[attr-defined]
                "PlayDTMF", {"Channel": channel, "Digit": digit, "Receive": "true"}))

    # ------------------------------------------------------------------ commands
    async def mute(self, call_id: str, agent_id: str, on: bool) -> None:
        """MuteAudio on the agent's channel, inbound direction (what the agent says to the PBX)."""
        channel = self._agent_channel(call_id)
        if channel:
            await self._safely("mute", self.client.send_action(  # type: ignore[attr-defined]
                "MuteAudio", {"Channel": channel, "Direction": "in", "State": "on" if on else "off"}))

    async def consult(self, call_id: str, agent_id: str, target: str, external: bool) -> None:
        """Atxfer from the agent's channel to target@acd-consult."""
        channel = self._agent_channel(call_id)
        if not channel:
            return
        consult = self._consults()[call_id] = AmiConsult(target, dtmf_digits(target))
        await self._safely("atxfer", self.client.atxfer(channel, consult.digits, CONSULT_CONTEXT))  # type: ignore

    async def consult_cancel(self, call_id: str) -> None:
        """Abort: the agent goes back to the customer, the consulted party is hung up."""
        if self._consults().pop(call_id, None) is not None:
            await self._features(self._agent_channel(call_id), ATXFER_ABORT)

    async def consult_complete(self, call_id: str) -> None:
        """Complete: customer and consulted party joined, the agent dropped."""
        consult = self._consults().pop(call_id, None)
        if consult is None:
            return
        # Handed over before the keys go out: the agent's channel hangs up in Asterisk's answer, and that
        # hang-up must not read as the end of the customer's call.
        channel = self._agent_channel(call_id)
        self._handed_over(call_id, consult)
        if consult.state == "conference":
            await self._safely("leave", self.client.hangup(channel))  # type: ignore
        else:
            await self._features(channel, ATXFER_COMPLETE)

    async def conference(self, call_id: str) -> None:
        """Three-way: the consultation bridge merges into the customer's."""
        consult = self._consults().get(call_id)
        if consult is not None:
            consult.state = "conference"
            await self._features(self._agent_channel(call_id), ATXFER_THREEWAY)

    async def leave_conference(self, call_id: str, agent_id: str, lead: bool) -> None:
        """Hang up one's own channel; the other two stay bridged."""
        consult = self._consults().pop(call_id, None)
        if consult is None:
            return
        if lead:
            channel = self._agent_channel(call_id)
            self._handed_over(call_id, consult)
            await self._safely("leave", self.client.hangup(channel))  # type: ignore
        elif consult.target_channel:
            await self._safely("leave", self.client.hangup(consult.target_channel))  # type: ignore

    def _handed_over(self, call_id: str, consult: AmiConsult) -> None:
        # The consulted phone now carries the customer: its channel is the call's agent channel.
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        if call is not None and consult.target_channel:
            call.agent_channel = consult.target_channel

    # ------------------------------------------------------------------ events
    def consult_event(self, event: ev.AmiEvent) -> bool:
        """Handle an event that belongs to a consultation; True when it did."""
        if isinstance(event, ev.AttendedTransfer):  # confirms a completion or three-way we asked for
            log.info("ami: attended transfer %s (%s)", event.result, event.dest_type)
            self.counts["attended_transfers"] = self.counts.get("attended_transfers", 0) + 1  # type: ignore
            return True
        consults = self._consults()
        if not consults:
            return False
        if isinstance(event, ev.DialEnd) and event.channel is not None and event.dest is not None:
            for call_id, consult in consults.items():
                if event.channel.channel.startswith(consult.local_prefix) and consult.state == "ringing":
                    self._dial_result(call_id, consult, event)
                    return True
        elif isinstance(event, ev.Hangup):
            call_id = self.by_uniqueid.get(event.channel.uniqueid)  # type: ignore[attr-defined]
            if call_id is not None:  # the customer left: the consultation goes with the call
                consults.pop(call_id, None)
                return False  # the adapter's own hang-up handling ends the call
            name = event.channel.channel
            for call_id, consult in list(consults.items()):
                if name == consult.target_channel or (consult.state == "ringing"
                                                      and name.startswith(consult.local_prefix)):
                    # The consulted party hung up (or its Local dial ended unanswered): bridge_basic.c
                    # takes the agent back to the customer (REBRIDGE).
                    del consults[call_id]
                    self.sink.consult_failed(call_id, "hung_up" if consult.state != "ringing"  # type: ignore
                                             else "no_answer")
                    return True
        return False

    def _dial_result(self, call_id: str, consult: AmiConsult, event: ev.DialEnd) -> None:
        if event.dial_status == "ANSWER":
            consult.state, consult.target_channel = "talking", event.dest.channel
            self.sink.consult_answered(call_id)  # type: ignore[attr-defined]
        elif event.dial_status in FAILED_DIAL or event.dial_status:
            del self._consults()[call_id]
            self.sink.consult_failed(call_id, FAILED_DIAL.get(event.dial_status, "failed"))  # type: ignore

    def consult_health(self) -> dict[str, Any]:
        """Consultations in progress, for the admin console."""
        return {"consultations": len(self._consults())}
