"""Call control beyond answer, hold and blind transfer (B3, B12): mute, consultation, attended transfer and
three-way calls, for the desk and the REST API; mixed into the PBX bridge (`AcdBridge`).

Each command changes the ACD engine first (so a consulted colleague is busy at once and gets no queue
offer), then asks the PBX; a PBX that cannot do it undoes the engine change and the caller hears why.
Every step is noted on the call (`CallMeta.parties`) so the history shows who consulted, transferred to or
conferenced whom, and when. The desk of every agent on the call gets a `call.parties` event with its view.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from appliance.bus import Event, EventKind
from appliance.domain.acd import AcdError, ConsultState
from appliance.pbx.adapter import UnsupportedAction

log = logging.getLogger(__name__)
FINISHED_KEPT = 2000  # finished calls remembered for wrap-up codes until their history row is surely written


class CallControl:
    """Mute, consult, complete, conference, leave; and the PBX's consultation reports."""

    # ------------------------------------------------------------------ commands (desk, API)
    async def mute(self, call_id: str, agent_id: str, on: bool) -> None:
        """Mute or unmute the agent's microphone."""
        call = self.engine.call(call_id)
        await self.adapter.mute(call_id, agent_id, on)
        meta = self.meta.get(call_id)
        if meta is not None:
            (meta.muted.add if on else meta.muted.discard)(agent_id)
        self._parties_changed(call_id, extra=(call.agent_id,))

    async def hold_noted(self, call_id: str, on: bool) -> None:
        """Hold or retrieve, remembered for the call panel's view; a PBX that cannot hold refuses (409)."""
        try:
            await self.adapter.hold(call_id, on)
        except UnsupportedAction as exc:
            raise AcdError(str(exc)) from None
        meta = self.meta.get(call_id)
        if meta is not None:
            meta.held = on
        self._parties_changed(call_id)

    async def consult(self, call_id: str, agent_id: str, target: str) -> dict[str, Any]:
        """Call a colleague (by extension) or an outside number while the customer holds."""
        colleague = self._agent_at(target)
        external = colleague is None
        now = self.clock()
        if external:
            self.engine.consult_start(call_id, now, to_number=target)
        else:
            self.engine.consult_start(call_id, now, to_agent=colleague)
        self._wake.set()
        # noted before the PBX is asked: its answer may arrive while we wait for the action's response
        self._note(call_id, "consult", by=agent_id, to=target, to_agent=colleague)
        try:
            # a colleague in external phone mode is reached on their outside number, like any outside party
            phone = self.external_phones.get(colleague) if colleague else None
            await self.adapter.consult(call_id, agent_id, phone or target, external or phone is not None)
        except UnsupportedAction:
            self.engine.consult_end(call_id, self.clock(), "unsupported")
            self.meta[call_id].parties.pop() if call_id in self.meta else None
            self._wake.set()
            raise
        self._parties_changed(call_id)
        return self.call_view(call_id)

    async def consult_cancel(self, call_id: str, reason: str = "cancelled") -> None:
        """Drop the consulted party and return to the customer."""
        consult = self.engine.consult_end(call_id, self.clock(), reason)
        self._wake.set()
        await self._tolerant(self.adapter.consult_cancel(call_id), "consult_cancel")
        self._note(call_id, reason, by=consult.by, to=consult.target)
        self._parties_changed(call_id, extra=(consult.agent_id,))

    async def consult_complete(self, call_id: str) -> None:
        """Attended transfer: the consulted party keeps the customer."""
        call = self.engine.call(call_id)
        consult, old = call.consult, call.agent_id
        self.engine.consult_complete(call_id, self.clock())
        self._wake.set()
        await self.adapter.consult_complete(call_id)
        if consult is not None:
            self._note(call_id, "transfer", by=old, to=consult.target, to_agent=consult.agent_id)
        self._parties_changed(call_id, extra=(old,))

    async def conference(self, call_id: str) -> None:
        """Join customer, agent and consulted party."""
        self.engine.conference(call_id, self.clock())
        self._wake.set()
        try:
            await self.adapter.conference(call_id)
        except UnsupportedAction:
            call = self.engine.call(call_id)
            if call.consult is not None:
                call.consult.state = ConsultState.TALKING  # nothing was joined at the PBX
            raise
        call = self.engine.call(call_id)
        self._note(call_id, "conference", by=call.agent_id, to=call.consult.target if call.consult else "")
        self._parties_changed(call_id)

    async def leave(self, call_id: str, agent_id: str) -> None:
        """An agent leaves the three-way (the other two stay), or a consulted colleague hangs up."""
        call = self.engine.call(call_id)
        consult = call.consult
        if consult is None:
            raise AcdError(f"call {call_id} has no consultation or three-way to leave")
        lead = agent_id == call.agent_id
        if consult.state is not ConsultState.CONFERENCE:
            if lead:
                raise AcdError("the agent who consults cancels or completes; leaving is for a three-way")
            await self.consult_cancel(call_id, "hung_up")
            return
        self.engine.leave_conference(call_id, agent_id, self.clock())
        self._wake.set()
        await self._tolerant(self.adapter.leave_conference(call_id, agent_id, lead), "leave_conference")
        self._note(call_id, "left", by=agent_id, to=consult.target)
        self._parties_changed(call_id, extra=(agent_id, consult.agent_id))

    # ------------------------------------------------------------------ PBX reports (PbxSink)
    def consult_answered(self, call_id: str) -> None:
        """The consulted party picked up."""
        if self._guard(f"consult answered {call_id}", lambda: self.engine.consult_answered(call_id, self.clock())):
            self._note(call_id, "answered")
            self._parties_changed(call_id)

    def consult_failed(self, call_id: str, reason: str) -> None:
        """The consulted party was busy, did not answer, or hung up; the agent is back with the customer."""
        consult = self._consult_or_none(call_id)
        if consult is None:
            return
        if self._guard(f"consult failed {call_id}", lambda: self.engine.consult_end(call_id, self.clock(), reason)):
            self._note(call_id, reason, by=consult.by, to=consult.target)
            self._parties_changed(call_id, extra=(consult.agent_id,))

    def remember_finished(self, meta: Any) -> None:
        """Keep who handled a finished call and its queue: its wrap-up codes may come before its record."""
        finished = self.__dict__.setdefault("_finished", OrderedDict())
        agents = {meta.answered_by} | {s.get(k) for s in meta.parties for k in ("by", "to_agent")}
        finished[meta.call_id] = (meta.queue_id, frozenset(a for a in agents if a))
        while len(finished) > FINISHED_KEPT:
            finished.popitem(last=False)

    def handled_queue(self, call_id: str, agent_id: str) -> str | None:
        """The queue of a live or recently finished call this agent was on, else None."""
        call = self._call_or_none(call_id)
        if call is not None:
            consulted = call.consult.agent_id if call.consult else None
            return call.queue_id if agent_id in (call.agent_id, consulted) else None
        meta = self.meta.get(call_id)
        if meta is not None:
            agents = {meta.answered_by} | {s.get(k) for s in meta.parties for k in ("by", "to_agent")}
            return meta.queue_id if agent_id in agents else None
        queue, agents = self.__dict__.get("_finished", {}).get(call_id, (None, frozenset()))
        return queue if agent_id in agents else None

    # ------------------------------------------------------------------ views
    def call_view(self, call_id: str) -> dict[str, Any]:
        """The call panel's data: who is on the call, in which state, muted or held."""
        meta = self.meta.get(call_id)
        view: dict[str, Any] = {"call_id": call_id, "parties": [], "consult": None, "muted": [], "held": False,
                                "history": list(meta.parties) if meta else [],
                                "verification": dict(meta.verification) if meta and meta.verification else None}
        call = self._call_or_none(call_id)
        if call is None:
            view["ended"] = True
            return view
        view["lead"] = call.agent_id  # `agent_id` names the desk an event goes to
        view["queue_id"] = call.queue_id
        if meta is not None:
            view["muted"], view["held"] = sorted(meta.muted), meta.held
            verifying = bool(meta.verification and meta.verification.get("state") == "collecting")
            view["parties"].append({"role": "customer", "name": meta.caller,
                                    "state": "verifying" if verifying else "held" if meta.held or call.consult
                                    and call.consult.state in (ConsultState.RINGING, ConsultState.TALKING)
                                    else "connected"})
        if call.agent_id:
            view["parties"].append({"role": "agent", "id": call.agent_id, "name": self._name(call.agent_id),
                                    "state": "connected", "muted": bool(meta and call.agent_id in meta.muted)})
        consult = call.consult
        if consult is not None:
            view["consult"] = {"target": consult.target, "agent_id": consult.agent_id, "state": consult.state.value,
                               "by": consult.by}
            view["parties"].append({"role": "consulted", "id": consult.agent_id,
                                    "name": self._name(consult.agent_id) if consult.agent_id else consult.target,
                                    "number": consult.target, "state": consult.state.value})
        return view

    # ------------------------------------------------------------------ internals
    def _agent_at(self, target: str) -> str | None:
        """The agent logged in at this extension, if the target is one (else it is an outside number)."""
        for agent in self.engine.agents():
            if agent.extension == target:
                return agent.id
        return None

    def _name(self, agent_id: str) -> str:
        return self.agent_names.get(agent_id) or agent_id

    def _consult_or_none(self, call_id: str):
        call = self._call_or_none(call_id)
        return call.consult if call is not None else None

    def _note(self, call_id: str, kind: str, **data: Any) -> None:
        meta = self.meta.get(call_id)
        if meta is not None:
            meta.parties.append({"kind": kind, "at": self.wall(), **{k: v for k, v in data.items() if v}})

    def _parties_changed(self, call_id: str, extra: tuple[str | None, ...] = ()) -> None:
        """Tell the desk of everyone on (or just gone from) the call."""
        view = self.call_view(call_id)
        call = self._call_or_none(call_id)
        involved = set(a for a in extra if a)
        if call is not None:
            involved.update(a for a in (call.agent_id, call.consult.agent_id if call.consult else None) if a)
        for agent_id in involved:
            self.bus.publish(Event(EventKind.CALL_PARTIES, {**view, "agent_id": agent_id, "view": True}))

    async def _tolerant(self, coro: Any, what: str) -> None:
        # The engine has moved on (the agent is back with the customer or gone); a PBX that cannot follow
        # is logged, and the next PBX event (hang-up, DialEnd) still reconciles the call.
        try:
            await coro
        except UnsupportedAction as exc:
            log.warning("pbx adapter cannot %s: %s", what, exc)
