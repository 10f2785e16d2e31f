"""Stateful property test: random sequences of everything a PBX and agents can do, checked after each step."""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from appliance.domain.acd import (AcdEngine, Agent, AgentState, Call, CallState, ConsultState, DecisionAction,
                                  InvalidTransition, OverflowRule, OverflowWhen, QueueConfig, ReadinessMode, Strategy)
from appliance.domain.acd.calls import TERMINAL_STATES, WAITING_STATES

SKILLS = ("sv", "en", "tech")
LANGS = ("sv", "en")
REASONS = ("lunch", "short_break", "no_answer")


def admits(queue: QueueConfig, agent: Agent, call: Call) -> bool:
    """Brute-force eligibility, written apart from the index on purpose."""
    if queue.members is not None and agent.id not in queue.members:
        return False
    needs = dict(queue.skills)
    if call.required_skill is not None:
        needs[call.required_skill] = max(needs.get(call.required_skill, 0), call.required_level)
    if any(agent.skills.get(skill, 0) < level for skill, level in needs.items()):
        return False
    return call.language is None or call.language in agent.languages


class AcdMachine(RuleBasedStateMachine):
    """The engine under random use; invariants hold after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = AcdEngine(pause_reasons=REASONS)
        self.now = 0.0
        self.ids = itertools.count()
        self.calls: dict[str, Call] = {}
        self.finished: dict[str, CallState] = {}
        self.queues: dict[str, QueueConfig] = {}
        self.configured = False

    # ---------------------------------------------------------------- set-up
    @initialize(skill_sets=st.lists(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=3),
                              min_size=2, max_size=6),
          langs=st.lists(st.frozensets(st.sampled_from(LANGS)), min_size=6, max_size=6),
          strategies=st.lists(st.sampled_from(list(Strategy)), min_size=3, max_size=3),
          levels=st.lists(st.integers(1, 6), min_size=3, max_size=3),
          timeouts=st.lists(st.sampled_from([0.0, 5.0, 20.0]), min_size=3, max_size=3),
          wraps=st.lists(st.sampled_from([0.0, 3.0]), min_size=3, max_size=3))
    def configure(self, skill_sets: list[dict[str, int]], langs: list[frozenset[str]], strategies: list[Strategy],
                  levels: list[int], timeouts: list[float], wraps: list[float]) -> None:
        backup = QueueConfig("backup", strategy=strategies[2], offer_timeout_s=timeouts[2], wrap_up_s=wraps[2],
                             wrap_up_codes_required=True)
        self.engine.add_queue(backup)
        sv = QueueConfig("sv", skills={"sv": levels[0]}, strategy=strategies[0], offer_timeout_s=timeouts[0],
                         wrap_up_s=wraps[0], rank=1,
                         overflow=(OverflowRule(OverflowWhen.WAIT_OVER, 30.0, to_queue="backup", keep_searching=True),
                                   OverflowRule(OverflowWhen.NO_AGENTS, to_queue="backup")))
        self.engine.add_queue(sv)
        tech = QueueConfig("tech", skills={"tech": levels[1]}, strategy=strategies[1], offer_timeout_s=timeouts[1],
                           wrap_up_s=wraps[1],
                           overflow=(OverflowRule(OverflowWhen.SIZE_OVER, 3, to_number="+4611"),
                                     OverflowRule(OverflowWhen.WAIT_OVER, 60.0)))
        self.engine.add_queue(tech)
        self.queues = {q.id: q for q in (backup, sv, tech)}
        for i, skills in enumerate(skill_sets):
            self.engine.add_agent(Agent(f"a{i}", str(100 + i), skills=skills, languages=langs[i],
                                        auto_ready=i % 3 != 2))
        self.configured = True

    # ---------------------------------------------------------------- helpers
    def agents_in(self, *states: AgentState) -> list[str]:
        return sorted(a.id for a in self.engine.agents() if a.state in states)

    def calls_in(self, *states: CallState) -> list[str]:
        return sorted(c.id for c in self.engine.live_calls() if c.state in states)

    def step(self, dt: float) -> None:
        self.now += dt

    # ---------------------------------------------------------------- agents
    @rule(data=st.data(), mode=st.sampled_from(list(ReadinessMode)), paused=st.booleans(), dt=st.floats(0, 5))
    def login(self, data: st.DataObject, mode: ReadinessMode, paused: bool, dt: float) -> None:
        out = self.agents_in(AgentState.LOGGED_OUT)
        if out:
            self.step(dt)
            self.engine.agent_login(data.draw(st.sampled_from(out)), self.now, mode, "lunch" if paused else None)
        # a driver routes after everything it reports
        self.route()

    @rule(data=st.data(), dt=st.floats(0, 5))
    def logout(self, data: st.DataObject, dt: float) -> None:
        able = self.agents_in(AgentState.READY, AgentState.PAUSED, AgentState.WRAP_UP, AgentState.RESERVED)
        if able:
            self.step(dt)
            self.engine.agent_logout(data.draw(st.sampled_from(able)), self.now)
        # a driver routes after everything it reports
        self.route()

    @rule(data=st.data(), reason=st.sampled_from(REASONS), ready=st.booleans(), dt=st.floats(0, 5))
    def ready_or_pause(self, data: st.DataObject, reason: str, ready: bool, dt: float) -> None:
        inside = [a.id for a in self.engine.agents() if a.state is not AgentState.LOGGED_OUT]
        if inside:
            self.step(dt)
            agent_id = data.draw(st.sampled_from(sorted(inside)))
            agent = self.engine.agent(agent_id)
            owes = agent.state is AgentState.WRAP_UP and agent.wrap_hold
            if ready:
                try:
                    self.engine.set_ready(agent_id, self.now)
                except InvalidTransition:
                    assert owes  # only wrap-up codes still owed stop an agent going ready
                else:
                    assert not owes
            else:
                self.engine.pause(agent_id, reason, self.now)
                assert agent.state is not AgentState.READY
        # a driver routes after everything it reports
        self.route()

    @rule(data=st.data(), dt=st.floats(0, 5))
    def wrap_up_codes_given(self, data: st.DataObject, dt: float) -> None:
        owing = sorted(a.id for a in self.engine.agents() if a.wrap_hold)
        if owing:
            self.step(dt)
            agent = self.engine.agent(data.draw(st.sampled_from(owing)))
            self.engine.hold_wrap_up(agent.id, False, self.now)
            assert not agent.wrap_hold
        self.route()

    @rule(data=st.data(), mode=st.sampled_from(list(ReadinessMode)))
    def change_mode(self, data: st.DataObject, mode: ReadinessMode) -> None:
        inside = [a.id for a in self.engine.agents() if a.state is not AgentState.LOGGED_OUT]
        if inside:
            self.engine.set_mode(data.draw(st.sampled_from(sorted(inside))), mode, self.now)
        # a driver routes after everything it reports
        self.route()

    # ---------------------------------------------------------------- calls
    @rule(queue=st.sampled_from(["backup", "sv", "tech"]), priority=st.integers(0, 2),
          lang=st.none() | st.sampled_from(LANGS), extra=st.none() | st.sampled_from(SKILLS),
          level=st.integers(1, 10), caller=st.sampled_from(["", "0701", "0702"]), dt=st.floats(0, 5))
    def arrive(self, queue: str, priority: int, lang: str | None, extra: str | None, level: int, caller: str,
               dt: float) -> None:
        self.step(dt)
        call = Call(f"c{next(self.ids)}", caller=caller, priority=priority, language=lang, required_skill=extra,
                    required_level=level)
        self.calls[call.id] = call
        self.engine.enqueue(call, queue, self.now)
        # a driver routes after everything it reports
        self.route()

    @rule(data=st.data(), accept=st.booleans(), dt=st.floats(0, 5))
    def offer_result(self, data: st.DataObject, accept: bool, dt: float) -> None:
        offered = self.calls_in(CallState.OFFERED)
        if offered:
            self.step(dt)
            call = self.engine.call(data.draw(st.sampled_from(offered)))
            agent_id = data.draw(st.sampled_from(sorted(call.offered_to)))
            self.engine.offer_result(call.id, agent_id, accept, self.now)
        # a driver routes after everything it reports
        self.route()

    @rule(data=st.data(), how=st.sampled_from(["end", "to_queue", "to_number"]), dt=st.floats(0, 5))
    def finish_talk(self, data: st.DataObject, how: str, dt: float) -> None:
        talking = self.calls_in(CallState.CONNECTED)
        if talking:
            self.step(dt)
            call_id = data.draw(st.sampled_from(talking))
            if how == "end":
                self.engine.call_ended(call_id, self.now)
            elif self.engine.call(call_id).consult is not None:
                try:  # a blind transfer waits until the consultation is completed or cancelled
                    self.engine.transfer(call_id, self.now, to_number="+4699")
                except InvalidTransition:
                    pass
                else:
                    raise AssertionError("transferred a call in consultation")
            elif how == "to_queue":
                self.engine.transfer(call_id, self.now, to_queue=data.draw(st.sampled_from(sorted(self.queues))))
            else:
                self.engine.transfer(call_id, self.now, to_number="+4699")
        # a driver routes after everything it reports
        self.route()

    # ---------------------------------------------------------------- consultation, transfer, three-way
    @rule(data=st.data(), colleague=st.booleans(), dt=st.floats(0, 5))
    def consult(self, data: st.DataObject, colleague: bool, dt: float) -> None:
        talking = [c for c in self.calls_in(CallState.CONNECTED) if self.engine.call(c).consult is None]
        if talking:
            self.step(dt)
            call_id = data.draw(st.sampled_from(talking))
            if colleague:
                target = data.draw(st.sampled_from(sorted(a.id for a in self.engine.agents())))
                agent = self.engine.agent(target)
                free = agent.state in (AgentState.READY, AgentState.PAUSED) and target != self.engine.call(call_id).agent_id
                try:
                    self.engine.consult_start(call_id, self.now, to_agent=target)
                except InvalidTransition:
                    assert not free  # a busy, ringing, wrapping or absent colleague is refused, nobody else
                else:
                    assert free and agent.state is AgentState.BUSY and agent.call_id == call_id
            else:
                self.engine.consult_start(call_id, self.now, to_number="+4688")
        self.route()

    @rule(data=st.data(), what=st.sampled_from(["answer", "fail", "complete", "conference", "leave_lead",
                                                  "leave_other"]), dt=st.floats(0, 5))
    def consult_goes_on(self, data: st.DataObject, what: str, dt: float) -> None:
        consulting = [c for c in self.calls_in(CallState.CONNECTED) if self.engine.call(c).consult is not None]
        if not consulting:
            return
        self.step(dt)
        call = self.engine.call(data.draw(st.sampled_from(consulting)))
        consult = call.consult
        allowed = {"answer": {ConsultState.RINGING},
                   "fail": set(ConsultState),
                   "complete": {ConsultState.TALKING, ConsultState.CONFERENCE},
                   "conference": {ConsultState.TALKING},
                   "leave_lead": {ConsultState.CONFERENCE},
                   "leave_other": {ConsultState.CONFERENCE} if consult.agent_id else set()}[what]
        try:
            if what == "answer":
                self.engine.consult_answered(call.id, self.now)
            elif what == "fail":
                self.engine.consult_end(call.id, self.now, "busy")
            elif what == "complete":
                self.engine.consult_complete(call.id, self.now)
            elif what == "conference":
                self.engine.conference(call.id, self.now)
            else:
                leaver = call.agent_id if what == "leave_lead" else (consult.agent_id or "nobody")
                self.engine.leave_conference(call.id, leaver, self.now)
        except InvalidTransition:
            assert consult.state not in allowed
        else:
            assert consult.state in allowed or what in ("answer", "conference")
        self.route()

    @rule(data=st.data(), dt=st.floats(0, 5))
    def abandon(self, data: st.DataObject, dt: float) -> None:
        live = self.calls_in(CallState.QUEUED, CallState.OFFERED, CallState.CALLBACK_REQUESTED)
        if live:
            self.step(dt)
            self.engine.abandon(data.draw(st.sampled_from(live)), self.now)
        # a driver routes after everything it reports
        self.route()

    @rule(data=st.data())
    def callback(self, data: st.DataObject) -> None:
        queued = self.calls_in(CallState.QUEUED)
        if queued:
            self.engine.request_callback(data.draw(st.sampled_from(queued)), "0709", self.now)
        # a driver routes after everything it reports
        self.route()

    @rule(dt=st.floats(0, 40))
    def time_passes(self, dt: float) -> None:
        self.step(dt)
        held = [a for a in self.engine.agents() if a.state is AgentState.WRAP_UP and a.wrap_hold]
        self.engine.tick(self.now)
        assert all(a.state is AgentState.WRAP_UP for a in held)  # wrap-up owing codes outlasts its time
        # a driver routes after everything it reports
        self.route()

    @rule()
    def route(self) -> None:
        """Ask for decisions and check each one against the state just before."""
        free_before = {a.id for a in self.engine.agents() if a.available}
        engaged: set[str] = set()
        for decision in self.engine.route(self.now):
            call = self.calls[decision.call_id]
            if decision.action is not DecisionAction.OFFER:
                assert call.state is CallState.OVERFLOWED
                continue
            queue = self.queues[decision.queue_id]
            ids = decision.agent_ids
            assert ids and len(set(ids)) == len(ids)
            assert len(ids) == 1 or queue.strategy is Strategy.RING_ALL
            for agent_id in ids:
                # only ready inbound agents, each getting one call, with the skills, levels and language needed
                assert agent_id in free_before and agent_id not in engaged
                engaged.add(agent_id)
                assert admits(queue, self.engine.agent(agent_id), call)

    # ---------------------------------------------------------------- invariants
    @invariant()
    def offers_and_calls_are_consistent(self) -> None:
        engine = self.engine
        holders: dict[str, str] = {}
        for agent in engine.agents():
            if agent.state in (AgentState.RESERVED, AgentState.BUSY):
                assert agent.call_id is not None
                call = engine.call(agent.call_id)
                holders[agent.id] = call.id
                if agent.state is AgentState.RESERVED:
                    assert call.state is CallState.OFFERED and agent.id in call.offered_to
                else:
                    # busy: the call's agent, or the colleague it consults (never both, never two calls)
                    assert call.state is CallState.CONNECTED
                    consulted = call.consult.agent_id if call.consult else None
                    assert (call.agent_id == agent.id) != (consulted == agent.id)
            else:
                assert agent.call_id is None
        for call in engine.live_calls():
            if call.state is CallState.OFFERED:
                assert call.offered_to and all(holders.get(a) == call.id for a in call.offered_to)
            if call.state is CallState.CONNECTED:
                assert holders.get(call.agent_id) == call.id
                if call.consult is not None and call.consult.agent_id is not None:
                    assert holders.get(call.consult.agent_id) == call.id
            else:
                assert call.consult is None
        leads = [c for a, c in holders.items() if engine.agent(a).state is AgentState.BUSY
                 and engine.call(c).agent_id == a]
        assert len(leads) == len(set(leads))

    @invariant()
    def every_call_ends_in_exactly_one_terminal_state(self) -> None:
        live = {c.id for c in self.engine.live_calls()}
        for call_id, call in self.calls.items():
            if call_id in live:
                assert call.state not in TERMINAL_STATES and call_id not in self.finished
            else:
                assert call.state in TERMINAL_STATES
                assert self.finished.setdefault(call_id, call.state) is call.state

    @invariant()
    def staffing_counters_match_a_recount(self) -> None:
        for queue in self.queues.values():
            probe = Call("probe")
            able = [a for a in self.engine.agents() if admits(queue, a, probe)]
            logged_in = sum(a.state is not AgentState.LOGGED_OUT for a in able)
            working = sum(a.state not in (AgentState.LOGGED_OUT, AgentState.PAUSED)
                          and a.mode is ReadinessMode.INBOUND for a in able)
            free = sum(a.available for a in able)
            assert self.engine.staffing(queue.id) == (logged_in, working, free)
            assert self.engine.waiting_count(queue.id) == len(self.engine.waiting_calls(queue.id))

    @invariant()
    def after_routing_no_free_agent_is_left_beside_a_call_it_could_take(self) -> None:
        engine = self.engine
        if engine._pending_calls or engine._pending_agents:  # only meaningful right after route()
            return
        free = [a for a in engine.agents() if a.available]
        for call in engine.live_calls():
            if call.state in WAITING_STATES:
                for queue_id in call.queue_ids:
                    assert not any(admits(self.queues[queue_id], a, call) for a in free), (call, queue_id)


AcdMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
TestAcdEngineProperties = AcdMachine.TestCase
