"""The simulator's side of mute, consultation, attended transfer and three-way calls (B3, B12), mixed into
`SimulatedPbx`: the consulted party rings, then answers, is busy, or rings out as a PBX's dial would.

Who answers: every target answers after the simulator's answer delay, except the numbers or extensions
in `busy_targets` (busy at once) and `unanswered_targets` (ring for `consult_ring_s`, then no answer).
A consulted colleague's phone is answered the same way (the simulator has no handset to wait for).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

CONSULT_RING_S = 20.0   # how long a consultation rings before the PBX gives up (a typical Dial timeout)
BUSY_AFTER_S = 0.5      # a busy signal comes back at once
VERIFY_S = (4.0, 10.0)  # a caller listens to the request and types the digits


@dataclass
class _SimConsult:
    call_id: str
    target: str
    external: bool
    state: str = "ringing"
    timer: asyncio.TimerHandle | None = None


class SimCallControl:
    """Consultations in the simulator; expects `SimulatedPbx`'s calls, sink, rng and timers."""

    def __init__(self) -> None:
        super().__init__()
        self.consults: dict[str, _SimConsult] = {}
        self.muted: set[tuple[str, str]] = set()
        self.busy_targets: set[str] = set()
        self.unanswered_targets: set[str] = set()
        self.consult_ring_s = CONSULT_RING_S
        self.verify_answers: dict[str, str] = {}  # caller number -> what they type when verified ("": nothing)

    async def verify(self, call_id: str, agent_id: str, kind: str) -> str | None:
        """The caller listens to the request and types: what `verify_answers` says for their number, else six
        digits (mostly) or nothing; the talk goes on afterwards with the same agent."""
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        if call is None:
            return None
        await asyncio.sleep(self.rng.uniform(*VERIFY_S) * self.time_scale)  # type: ignore[attr-defined]
        if call.gone:
            return None
        if call.caller in self.verify_answers:
            return self.verify_answers[call.caller] or None
        if self.rng.random() < 0.15:  # type: ignore[attr-defined]
            return None
        return "".join(self.rng.choice("0123456789") for _ in range(6))  # type: ignore[attr-defined]

    async def mute(self, call_id: str, agent_id: str, on: bool) -> None:
        """Mute the agent's side of the simulated call."""
        (self.muted.add if on else self.muted.discard)((call_id, agent_id))

    async def consult(self, call_id: str, agent_id: str, target: str, external: bool) -> None:
        """Ring the target; its answer, busy signal or ring-out comes back through the sink."""
        if call_id not in self.calls or call_id in self.consults:  # type: ignore[attr-defined]
            return
        consult = self.consults[call_id] = _SimConsult(call_id, target, external)
        if target in self.busy_targets:
            consult.timer = self._later(BUSY_AFTER_S, self._consult_fails, call_id, "busy")  # type: ignore[attr-defined]
        elif target in self.unanswered_targets:
            consult.timer = self._later(self.consult_ring_s, self._consult_fails, call_id,  # type: ignore[attr-defined]
                                        "no_answer")
        else:
            delay = self.rng.uniform(*self.answer_delay_s)  # type: ignore[attr-defined]
            consult.timer = self._later(delay, self._consult_answers, call_id)  # type: ignore[attr-defined]

    def _consult_answers(self, call_id: str) -> None:
        consult = self.consults.get(call_id)
        if call_id not in self.calls:  # type: ignore[attr-defined]
            self.consults.pop(call_id, None)  # the customer left meanwhile
            return
        if consult is None or consult.state != "ringing":
            return
        consult.state, consult.timer = "talking", None
        self.sink.consult_answered(call_id)  # type: ignore[attr-defined]

    def _consult_fails(self, call_id: str, reason: str) -> None:
        consult = self.consults.pop(call_id, None)
        if consult is not None and call_id in self.calls:  # type: ignore[attr-defined]
            self.sink.consult_failed(call_id, reason)  # type: ignore[attr-defined]

    def _consult_over(self, call_id: str) -> _SimConsult | None:
        consult = self.consults.pop(call_id, None)
        if consult is not None and consult.timer is not None:
            consult.timer.cancel()
        return consult

    async def consult_cancel(self, call_id: str) -> None:
        """Hang up on the consulted party."""
        self._consult_over(call_id)

    async def consult_complete(self, call_id: str) -> None:
        """Join customer and consulted party; an outside party takes the call out of the ACD's hands."""
        consult = self._consult_over(call_id)
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        if consult is not None and consult.external and call is not None:
            self.counts["redirected"] += 1  # type: ignore[attr-defined]
            self._drop(call)  # type: ignore[attr-defined]

    async def conference(self, call_id: str) -> None:
        """All three hear each other."""
        consult = self.consults.get(call_id)
        if consult is not None:
            consult.state = "conference"

    async def leave_conference(self, call_id: str, agent_id: str, lead: bool) -> None:
        """The leading agent leaving hands over like a transfer; a colleague leaving just drops out."""
        if lead:
            await self.consult_complete(call_id)
        else:
            self._consult_over(call_id)
