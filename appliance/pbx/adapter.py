"""What every PBX adapter offers the bridge, and what it reports back.

An adapter turns PBX traffic into calls to the bridge (`PbxSink`) and carries out the bridge's commands:
ring an agent, redirect, hang up, and the queue script's media actions (prompts, menus, digits), which not
every PBX interface can do (AMI does through the dialplan contexts of docs/asterisk.md; one that cannot says so).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Protocol

from appliance.domain.queue_script import Action


@dataclass(frozen=True)
class Recording:
    """A voice message as the PBX recorded it (the answer to a Voicemail action)."""

    audio: bytes
    content_type: str = "audio/wav"
    duration_s: float = 0.0


class RecordingLost(Exception):
    """A voice message was recorded but cannot be used (missing, not audio); the reason goes on the call."""


class UnsupportedAction(Exception):
    """The PBX interface cannot carry out this script action (the bridge skips it and notes why)."""


class PbxSink(Protocol):
    """The bridge's side: what adapters report."""

    def call_arrived(self, call_id: str, caller: str, dialled: str, queue_id: str | None = None,
                     digits: str = "") -> None: ...

    def caller_hung_up(self, call_id: str) -> None: ...

    def offer_answered(self, call_id: str, agent_id: str) -> None: ...

    def offer_rejected(self, call_id: str, agent_id: str) -> None: ...

    def call_hung_up(self, call_id: str) -> None: ...

    def adapter_state(self, connected: bool, detail: str = "") -> None: ...

    def consult_answered(self, call_id: str) -> None: ...

    def consult_failed(self, call_id: str, reason: str) -> None: ...


class PbxAdapter(abc.ABC):
    """Base of the simulator, AMI and CSTA adapters."""

    name = "adapter"

    def __init__(self) -> None:
        self.sink: PbxSink | None = None

    def attach(self, sink: PbxSink) -> None:
        """Connect the adapter to the bridge before `run`."""
        self.sink = sink

    @abc.abstractmethod
    async def run(self) -> None:
        """Talk to the PBX until cancelled (reconnecting on its own where the protocol allows)."""

    @abc.abstractmethod
    async def offer(self, call_id: str, agent_id: str, extension: str, caller_display: str) -> None:
        """Ring the agent's extension with this call."""

    @abc.abstractmethod
    async def withdraw(self, call_id: str, agent_id: str) -> None:
        """Stop ringing the agent (another agent took it, or the caller left)."""

    @abc.abstractmethod
    async def redirect(self, call_id: str, number: str) -> None:
        """Send the call to an external number (overflow, transfer out)."""

    @abc.abstractmethod
    async def hangup(self, call_id: str) -> None:
        """End the call."""

    async def answer(self, call_id: str, agent_id: str) -> None:
        """The agent answered from the desk (softphone button): connect the call at the PBX."""

    async def perform(self, call_id: str, action: Action) -> Any:
        """Carry out a script media action and return its result (key, digits, yes/no)."""
        raise UnsupportedAction(f"{self.name} cannot {type(action).__name__}")

    async def verify(self, call_id: str, agent_id: str, kind: str) -> str | None:
        """Take the caller into an IVR step asking for `kind` (customer_number, digits) while the agent waits,
        then back to the same agent; returns the digits entered (None: none, or the caller left)."""
        raise UnsupportedAction(f"{self.name} cannot send the caller to a verification")

    async def survey_after(self, call_id: str, survey: Action) -> None:
        """The script asks for the after-call survey (B17): prepare the PBX to keep the caller once the agent
        hangs up. Adapters that ask it themselves in `perform` need nothing here."""

    async def dial(self, agent_id: str, extension: str, number: str) -> str:
        """Place an outbound call from the agent's phone; returns the new call id."""
        raise UnsupportedAction(f"{self.name} cannot dial out")

    async def hold(self, call_id: str, on: bool) -> None:
        """Put the caller on hold (music) or take them back."""
        raise UnsupportedAction(f"{self.name} cannot hold")

    # Call control beyond hold (B3, B12). A consultation's outcome comes back through the sink:
    # `consult_answered`, or `consult_failed` with busy / no_answer / hung_up.
    async def mute(self, call_id: str, agent_id: str, on: bool) -> None:
        """Mute or unmute the agent's microphone on this call."""
        raise UnsupportedAction(f"{self.name} cannot mute")

    async def consult(self, call_id: str, agent_id: str, target: str, external: bool) -> None:
        """Call `target` (a colleague's extension, or an outside number) from the agent's phone while the
        customer holds."""
        raise UnsupportedAction(f"{self.name} cannot consult")

    async def consult_cancel(self, call_id: str) -> None:
        """Drop the consulted party; the agent is back with the customer."""
        raise UnsupportedAction(f"{self.name} cannot cancel a consultation")

    async def consult_complete(self, call_id: str) -> None:
        """Attended transfer: join the customer and the consulted party, and drop the agent."""
        raise UnsupportedAction(f"{self.name} cannot complete a transfer")

    async def conference(self, call_id: str) -> None:
        """Three-way: customer, agent and consulted party hear each other."""
        raise UnsupportedAction(f"{self.name} cannot make a three-way call")

    async def leave_conference(self, call_id: str, agent_id: str, lead: bool) -> None:
        """Drop one agent (the one who led, or the consulted colleague) from the three-way."""
        raise UnsupportedAction(f"{self.name} cannot leave a three-way call")

    def health(self) -> dict[str, Any]:
        """Adapter status for the admin console."""
        return {}
