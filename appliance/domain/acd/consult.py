"""Consultation, attended transfer and three-way calls (B3, B12) as the ACD sees them.

The agent on a connected call brings in a second party while the customer holds: another agent of the ACD
(who is then busy with this call and gets no queue offers) or an outside number. The consultation rings,
is answered or fails (busy, no answer), and ends in one of three ways: the agent cancels it and returns to
the customer; the agent completes the transfer (the consulted agent takes the call over, or the call leaves
the ACD to the outside number); or the three join in a conference, which the agent may leave, leaving the
other two connected. Media stays on the PBX; this only keeps who is engaged with which call.
"""
from __future__ import annotations

from appliance.domain.acd.agents import Agent, AgentState
from appliance.domain.acd.calls import Call, CallState, Consult, ConsultState
from appliance.domain.acd.errors import InvalidTransition
from appliance.domain.acd.events import AcdEvent, AcdEventKind

_E = AcdEventKind
# the states a colleague may be consulted from: free, or paused (a team lead in back-office work)
CONSULTABLE = (AgentState.READY, AgentState.PAUSED)


class ConsultMixin:
    """Engine operations for a second party on a connected call; mixed into `AcdEngine`."""

    def _connected(self, call_id: str) -> Call:
        call = self.call(call_id)  # type: ignore[attr-defined]
        if call.state is not CallState.CONNECTED:
            raise InvalidTransition(f"call {call_id!r} is {call.state.value}, not connected")
        return call

    def _consult_of(self, call_id: str, *states: ConsultState) -> tuple[Call, Consult]:
        call = self._connected(call_id)
        consult = call.consult
        if consult is None or consult.state not in states:
            now_state = consult.state.value if consult else "none"
            raise InvalidTransition(f"call {call_id!r} has no consultation in {'/'.join(s.value for s in states)} "
                                    f"(it is {now_state})")
        return call, consult

    def _parties_event(self, call: Call, now: float, state: str, target: str, reason: str | None = None) -> None:
        self._events.append(AcdEvent(_E.CALL_PARTIES, now, call_id=call.id,  # type: ignore[attr-defined]
                                     agent_id=call.agent_id, queue_id=call.serving_queue_id, state=state,
                                     reason=reason, target=target))

    def consult_start(self, call_id: str, now: float, *, to_agent: str | None = None,
                      to_number: str | None = None) -> Consult:
        """The agent calls a colleague (`to_agent`) or a number while the customer holds; it rings now."""
        call = self._connected(call_id)
        if call.consult is not None:
            raise InvalidTransition(f"call {call_id!r} already has a {call.consult.state.value} consultation")
        if (to_agent is None) == (to_number is None):
            raise InvalidTransition("a consultation needs exactly one of to_agent, to_number")
        prior = None
        if to_agent is not None:
            target_agent: Agent = self.agent(to_agent)  # type: ignore[attr-defined]
            if to_agent == call.agent_id:
                raise InvalidTransition("an agent cannot consult themselves")
            if target_agent.state not in CONSULTABLE:
                raise InvalidTransition(f"agent {to_agent!r} is {target_agent.state.value}")
            prior = target_agent.pause_reason if target_agent.state is AgentState.PAUSED else None
            target_agent.call_id = call.id
            target_agent.wrap_until = None
            self._change(target_agent, now, AgentState.BUSY)  # type: ignore[attr-defined]
            target = target_agent.extension
        else:
            target = str(to_number)
        call.consult = Consult(target, to_agent, ConsultState.RINGING, now, call.agent_id or "", prior)
        self._parties_event(call, now, ConsultState.RINGING.value, target)
        return call.consult

    def consult_answered(self, call_id: str, now: float) -> None:
        """The consulted party picked up: the agent talks to them, the customer still holds."""
        call, consult = self._consult_of(call_id, ConsultState.RINGING)
        consult.state = ConsultState.TALKING
        self._parties_event(call, now, ConsultState.TALKING.value, consult.target)

    def consult_end(self, call_id: str, now: float, reason: str = "cancelled") -> Consult:
        """The consultation is over without a transfer (cancelled, busy, no answer, or the party hung up);
        the agent is back with the customer and a consulted colleague returns to what they were doing."""
        call, consult = self._consult_of(call_id, ConsultState.RINGING, ConsultState.TALKING,
                                         ConsultState.CONFERENCE)
        self._release_consulted(call, now)
        self._parties_event(call, now, "ended", consult.target, reason)
        return consult

    def consult_complete(self, call_id: str, now: float) -> None:
        """Attended transfer: the consulted party takes the customer over and the agent goes to wrap-up.

        A colleague becomes the call's agent (the call stays in the ACD); an outside number takes the call
        out of the ACD (TRANSFERRED, like a blind transfer to a number)."""
        call, consult = self._consult_of(call_id, ConsultState.TALKING, ConsultState.CONFERENCE)
        self._hand_over(call, consult, now, "transferred")

    def conference(self, call_id: str, now: float) -> None:
        """Three-way: customer, agent and consulted party hear each other."""
        call, consult = self._consult_of(call_id, ConsultState.TALKING)
        consult.state = ConsultState.CONFERENCE
        self._parties_event(call, now, ConsultState.CONFERENCE.value, consult.target)

    def leave_conference(self, call_id: str, agent_id: str, now: float) -> None:
        """One agent leaves the three-way; the other two stay connected."""
        call, consult = self._consult_of(call_id, ConsultState.CONFERENCE)
        if agent_id == call.agent_id:
            self._hand_over(call, consult, now, "left")
        elif agent_id == consult.agent_id:
            self._release_consulted(call, now)
            self._parties_event(call, now, "ended", consult.target, "left")
        else:
            raise InvalidTransition(f"agent {agent_id!r} is not in the three-way on call {call_id!r}")

    # ---------------------------------------------------------------- internals
    def _release_consulted(self, call: Call, now: float) -> None:
        consult, call.consult = call.consult, None
        if consult is None or consult.agent_id is None:
            return
        agent = self.agent(consult.agent_id)  # type: ignore[attr-defined]
        agent.call_id = None
        reason = agent.pending_pause or consult.prior_reason
        agent.pending_pause = None
        if reason is not None:
            self._change(agent, now, AgentState.PAUSED, reason=reason)  # type: ignore[attr-defined]
        else:
            self._change(agent, now, AgentState.READY)  # type: ignore[attr-defined]

    def _hand_over(self, call: Call, consult: Consult, now: float, how: str) -> None:
        """The leading agent leaves the customer with the consulted party."""
        old_agent = call.agent_id
        self._after_conversation(call, now)  # type: ignore[attr-defined]  # the old agent's wrap-up
        call.consult = None
        self._events.append(AcdEvent(_E.CALL_TRANSFERRED, now, call_id=call.id,  # type: ignore[attr-defined]
                                     agent_id=old_agent, queue_id=call.serving_queue_id,
                                     target=consult.agent_id or consult.target, reason=how))
        if consult.agent_id is None:
            call.outcome_target = consult.target
            self._finish(call, CallState.TRANSFERRED, now)  # type: ignore[attr-defined]
            return
        new_agent = self.agent(consult.agent_id)  # type: ignore[attr-defined]
        call.agent_id = new_agent.id
        call.offered_to = (new_agent.id,)
        call.answered_at = now  # handle time of the new agent starts now
        new_agent.calls_taken += 1
        new_agent.last_call_id = call.id
        queue = self._queues.get(call.serving_queue_id or call.queue_id or "")  # type: ignore[attr-defined]
        new_agent.wrap_hold = bool(queue and queue.wrap_up_codes_required)
        # a colleague consulted from a pause goes back to it after this call
        new_agent.pending_pause = new_agent.pending_pause or consult.prior_reason
        self._parties_event(call, now, "ended", consult.target, how)
