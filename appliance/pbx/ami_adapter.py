"""The Asterisk adapter: our ACD drives calls that Asterisk carries, over the Manager Interface (AMI).

The dialplan contract (documented in docs/asterisk.md): an inbound call sets the channel variable
ACD_QUEUE to a queue key and waits in `acd-wait` (music on hold). To offer it, we Redirect the caller to
`acd-dial,<agent extension>,1`, whose Dial() rings the agent and, unanswered, returns to `acd-wait`.
DialEnd tells us answered or not; Hangup of the caller ends the call. A script's prompts play in `acd-play`,
which reports their end (ami_prompts.py); menus and digit entry go through `acd-read`, position and wait
announcements through `acd-announce`, numbers and amounts through `acd-say` (ami_ivr.py). The voice message step
goes a similar way: the caller goes to `acd-voicemail`, whose
Record() reports the file (RECORDED_FILE) that we read from the shared voicemail directory; and so does the
after-call survey: the caller continues in the dialplan when the agent hangs up and answers in `acd-survey`
(ami_survey.py).
"""
from __future__ import annotations

import asyncio
import io
import logging
import wave
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable
from urllib.parse import urlsplit

from hardware.ami import events as ev
from hardware.ami.client import AmiClient, Reconciliation
from hardware.ami.errors import AmiError

from appliance.domain.queue_script import Action, Announce, Collect, Menu, Play, PlayValue, Survey, Voicemail
from appliance.pbx.adapter import PbxAdapter, Recording, RecordingLost, UnsupportedAction
from appliance.pbx.ami_calls import AmiCallControl, dtmf_digits
from appliance.pbx.ami_ivr import ANNOUNCED_VARIABLE, DIGITS_VARIABLE, SAID_VARIABLE, AmiIvr
from appliance.pbx.ami_prompts import PLAYED_VARIABLE, AmiPrompts
from appliance.pbx.ami_survey import SURVEY_ANSWER_VARIABLE, AmiSurvey
from appliance.pbx.ami_verify import VERIFY_VARIABLE, AmiVerification

log = logging.getLogger(__name__)

QUEUE_VARIABLE = "ACD_QUEUE"
WAIT_CONTEXT = "acd-wait"
DIAL_CONTEXT = "acd-dial"
OUT_CONTEXT = "acd-out"
PHONE_DIAL_CONTEXT = "acd-dial-out"  # an agent in external phone mode: their outside number through the trunk
VOICEMAIL_CONTEXT = "acd-voicemail"  # Record()s the caller into the shared voicemail directory, then hangs up
RECORDED_VARIABLE = "RECORDED_FILE"  # set by Record(): the file's path without its extension
VOICEMAIL_GRACE_S = 30.0             # beyond the message's longest length, before we stop waiting
# Dial statuses that mean "the agent did not take it" (CANCEL is ours: a withdrawn offer or a gone caller).
NOT_TAKEN = {"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION", "DONTCALL", "TORTURE", "INVALIDARGS"}


@dataclass
class AmiCall:
    """One caller channel under ACD control."""

    call_id: str
    channel: str
    uniqueid: str
    ringing: dict[str, str]  # agent id -> agent channel being dialled
    answered_by: str | None = None
    agent_channel: str = ""  # the answering agent's channel (mute, consultation)
    ended: bool = False  # the agent hung up; the caller is still in the dialplan (the survey)
    verifying: bool = False  # the caller is in acd-verify, the agent in acd-hold (ami_verify.py)


class VoicemailSpool:
    """The directory Asterisk records voice messages into (shared with the PBX, e.g. an NFS mount)."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def read(self, recorded_file: str) -> Recording:
        """The recording Record() reported; only its file name counts, so a path from the PBX never leaves
        the directory. ValueError for a name that is not a plain file name, OSError if it is missing."""
        name = PurePosixPath(recorded_file).name
        if not name or name in (".", "..") or "\\" in name:
            raise ValueError(f"not a recording name: {recorded_file!r}")
        path = self.root / f"{name}.wav"
        data = path.read_bytes()
        try:
            with wave.open(io.BytesIO(data)) as w:
                duration = round(w.getnframes() / float(w.getframerate()), 2)
        except (wave.Error, EOFError, ZeroDivisionError) as exc:
            raise ValueError(f"{path.name} is not a WAV file ({exc})") from None
        return Recording(data, "audio/wav", duration)


def parse_ami_url(url: str) -> tuple[str, int, str, str]:
    """`tcp://user:secret@host:5038` → (host, port, user, secret)."""
    parts = urlsplit(url)
    if parts.scheme not in ("tcp", "ami") or not parts.hostname or not parts.username:
        raise ValueError(f"pbx.ami_url must look like tcp://user:secret@host:5038, got {url!r}")
    return parts.hostname, parts.port or 5038, parts.username, parts.password or ""


class AmiPbx(AmiIvr, AmiPrompts, AmiSurvey, AmiVerification, AmiCallControl, PbxAdapter):
    """Maps AMI events to the bridge and bridge commands to AMI actions."""

    name = "ami"

    def __init__(self, url: str, extension_of: Callable[[str], str | None],
                 agent_of_extension: Callable[[str], str | None], client: AmiClient | None = None,
                 voicemail_dir: str = "") -> None:
        super().__init__()
        self.voicemail = VoicemailSpool(voicemail_dir) if voicemail_dir else None
        self.recording: dict[str, asyncio.Future] = {}  # call id -> RECORDED_FILE, while a message is recorded
        host, port, user, secret = parse_ami_url(url)
        self.client = client or AmiClient(host, port, user, secret, action_timeout=5.0)
        self.extension_of = extension_of
        self.agent_of_extension = agent_of_extension
        self.calls: dict[str, AmiCall] = {}
        self.by_uniqueid: dict[str, str] = {}
        self.counts = {"arrived": 0, "answered": 0, "not_taken": 0, "hung_up": 0, "vanished": 0, "errors": 0}

    async def run(self) -> None:
        assert self.sink is not None
        self.client.subscribe(self._on_event, ev.VarSet, ev.DialEnd, ev.Hangup, ev.AttendedTransfer)
        self.client.on_reconnect(self._on_reconnect)
        await self.client.start()
        self.sink.adapter_state(True, f"AMI {self.client.banner}")
        try:
            while True:
                await self.client.wait_connected()
                self.sink.adapter_state(self.client.connected, "connected" if self.client.connected else "reconnecting")
                await asyncio.sleep(1.0)
        finally:
            await self.client.close()

    # ------------------------------------------------------------------ events
    def _on_event(self, event: ev.AmiEvent) -> None:
        if self.consult_event(event):  # the consulted party's dial and hang-up (ami_calls.py)
            return
        if isinstance(event, ev.VarSet):
            self._var_set(event)
        elif isinstance(event, ev.DialEnd):
            self._dial_end(event)
        elif isinstance(event, ev.Hangup):
            self._hangup(event)

    def _var_set(self, event: ev.VarSet) -> None:
        # Inherited variables arrive as "__ACD_QUEUE"/"_ACD_QUEUE" on some versions: strip the prefix.
        if event.variable == RECORDED_VARIABLE:
            self._recorded(event)
            return
        if event.variable == SURVEY_ANSWER_VARIABLE:
            self.survey_answer(event)
            return
        if event.variable == VERIFY_VARIABLE:
            self.verify_event(event)
            return
        if event.variable in (PLAYED_VARIABLE, DIGITS_VARIABLE, ANNOUNCED_VARIABLE, SAID_VARIABLE):
            self.ivr_event(event)
            return
        if event.variable.lstrip("_") != QUEUE_VARIABLE or not event.value:
            return
        ch = event.channel
        call_id = ch.linkedid or ch.uniqueid
        if call_id in self.calls:
            return  # set twice in the dialplan: one call
        self.calls[call_id] = AmiCall(call_id, ch.channel, ch.uniqueid, {})
        self.by_uniqueid[ch.uniqueid] = call_id
        self.counts["arrived"] += 1
        self.sink.call_arrived(call_id, ch.caller_number or "", ch.exten or "", event.value)

    def _dial_end(self, event: ev.DialEnd) -> None:
        if event.channel is None or event.dest is None:
            return
        call_id = self.by_uniqueid.get(event.channel.uniqueid)
        call = self.calls.get(call_id) if call_id else None
        if call is None:
            return
        agent_id = self._agent_for(event.dest)
        if agent_id is None:
            # an outside number: the trunk channel's Exten is the dialled one (app_dial.c inherits it)
            agent_id = next((a for a, dialled in call.ringing.items() if dialled == event.dest.exten), None)
        if agent_id is None:
            return
        call.ringing.pop(agent_id, None)
        if event.dial_status == "ANSWER":
            call.answered_by = agent_id
            call.agent_channel = event.dest.channel
            self.counts["answered"] += 1
            self.sink.offer_answered(call_id, agent_id)
        elif event.dial_status in NOT_TAKEN:
            self.counts["not_taken"] += 1
            self.sink.offer_rejected(call_id, agent_id)

    def _agent_for(self, dest: ev.ChannelSnapshot) -> str | None:
        # PJSIP/201-0000002a → extension 201; the dialled Exten is a fallback for Local channels.
        name = dest.channel.split("/", 1)[-1].rsplit("-", 1)[0]
        return self.agent_of_extension(name) or self.agent_of_extension(dest.exten or "")

    def _hangup(self, event: ev.Hangup) -> None:
        call_id = self.by_uniqueid.pop(event.channel.uniqueid, None)
        if call_id is None:
            self._agent_hung_up(event.channel.channel)
            return
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        if call.ended:  # the agent left first; the caller's survey (or the dialplan's Hangup) is over
            self.survey_over(call_id)
            return
        self.counts["hung_up"] += 1
        self.survey_over(call_id)  # hung up on the agent (or while waiting): no survey
        self.stop_waiting_for_ivr(call_id)
        if call.verifying:
            self.verify_party_left(call, caller_left=True)
        waiting = self.recording.pop(call_id, None)
        if waiting is not None:
            # The dialplan hangs up after Record(): the voice message step, not the bridge, ends this call.
            if not waiting.done():
                waiting.set_result(None)
            return
        if call.answered_by:
            self.sink.call_hung_up(call_id)
        else:
            self.sink.caller_hung_up(call_id)

    def _agent_hung_up(self, channel: str) -> None:
        # Dial option g keeps the caller in the dialplan when the agent hangs up: the call ends here, and the
        # caller's own Hangup follows (at once, or after the survey).
        for call in self.calls.values():
            if call.answered_by and not call.ended and call.agent_channel == channel:
                call.ended = True
                if call.verifying:
                    self.verify_party_left(call, caller_left=False)
                self.counts["hung_up"] += 1
                self.sink.call_hung_up(call.call_id)
                return

    def _on_reconnect(self, report: Reconciliation) -> None:
        # Channels that vanished while the link was down ended without us seeing it: close them now,
        # so the history has every call and no agent stays busy forever.
        for uniqueid in report.vanished:
            call_id = self.by_uniqueid.pop(uniqueid, None)
            call = self.calls.pop(call_id, None) if call_id else None
            if call is None:
                continue
            self.survey_over(call.call_id)
            if call.ended:
                continue
            self.counts["vanished"] += 1
            log.warning("ami: call %s ended while disconnected", call_id)
            (self.sink.call_hung_up if call.answered_by else self.sink.caller_hung_up)(call_id)

    # ------------------------------------------------------------------ commands
    async def _safely(self, what: str, coro) -> Any:
        try:
            return await coro
        except AmiError as exc:
            self.counts["errors"] += 1
            log.error("ami %s failed: %s", what, exc)
            return None

    async def offer(self, call_id: str, agent_id: str, extension: str, caller_display: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        self.stop_waiting_for_ivr(call_id)  # the offer's Redirect takes the caller out of acd-play, -read, -say …
        if extension.isdigit() and len(extension) <= 6:  # an extension (B20)
            call.ringing[agent_id] = extension
            await self._safely("offer", self.client.redirect(call.channel, DIAL_CONTEXT, extension, 1))
            return
        # External phone mode: an outside number, dialled as digits (+ as 00) so `_X.` matches it.
        call.ringing[agent_id] = dtmf_digits(extension)
        await self._safely("offer", self.client.redirect(call.channel, PHONE_DIAL_CONTEXT, call.ringing[agent_id], 1))

    async def withdraw(self, call_id: str, agent_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None and call.ringing.pop(agent_id, None) is not None:
            await self._safely("withdraw", self.client.redirect(call.channel, WAIT_CONTEXT, "s", 1))

    async def redirect(self, call_id: str, number: str) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            call.agent_channel = ""  # the agent's leg hangs up as the caller leaves: not the call's end
            await self._safely("redirect", self.client.redirect(call.channel, OUT_CONTEXT, number, 1))

    async def hangup(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        if call.answered_by and call.agent_channel and not (call.ended or call.verifying
                                                             or call_id in self._consults()):
            # The agent's side hangs up, as if the handset went down: Dial's option g takes the caller on to
            # the survey or to Hangup(). (During a consultation that would complete the transfer, so not then.)
            call.ended = True
            await self._safely("hangup", self.client.hangup(call.agent_channel))
            return
        await self._safely("hangup", self.client.hangup(call.channel))

    def _recorded(self, event: ev.VarSet) -> None:
        call_id = self.by_uniqueid.get(event.channel.uniqueid)
        waiting = self.recording.get(call_id) if call_id else None
        if waiting is not None and not waiting.done():
            waiting.set_result(event.value)

    async def perform(self, call_id: str, action: Action) -> Any:
        """Prompts, the voice message and the survey leave the dialplan's hands: Playback() there, its end
        here; Record() there, the file read here; Read() there, the keys as channel variables here."""
        if isinstance(action, Survey):
            return await self.take_survey(call_id, action)
        if isinstance(action, Play):
            return await self.play(call_id, action)
        if isinstance(action, (Menu, Collect)):
            return await self.read_digits(call_id, action)
        if isinstance(action, Announce):
            return await self.announce(call_id, action)
        if isinstance(action, PlayValue):
            return await self.say_value(call_id, action)
        if not isinstance(action, Voicemail):
            return await super().perform(call_id, action)
        call = self.calls.get(call_id)
        if self.voicemail is None:
            raise UnsupportedAction("ami: pbx.voicemail_dir is not set, so voice messages cannot be collected")
        if call is None:
            return None
        waiting = self.recording[call_id] = asyncio.get_running_loop().create_future()
        await self._safely("voicemail", self.client.redirect(call.channel, VOICEMAIL_CONTEXT, str(int(action.max_s)), 1))
        try:
            recorded = await asyncio.wait_for(waiting, action.max_s + VOICEMAIL_GRACE_S)
        except asyncio.TimeoutError:
            recorded = None
        finally:
            self.recording.pop(call_id, None)
        if not recorded:
            return None
        try:
            return await asyncio.to_thread(self.voicemail.read, recorded)
        except (OSError, ValueError) as exc:
            self.counts["errors"] += 1
            log.error("ami voicemail of %s not read: %s", call_id, exc)
            raise RecordingLost(f"voice message {PurePosixPath(recorded).name!r} not read: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None

    def health(self) -> dict[str, Any]:
        return {"connected": self.client.connected, "live_calls": len(self.calls), **self.counts,
                **{f"client_{k}": v for k, v in getattr(self.client, "stats", {}).items()
                   if isinstance(v, (int, float))}}
