"""The indexed router against a plain reference: for random sites and event sequences, `route()` picks the same
calls and agents, by the same rules, as brute force over every agent and call would.

The reference reads a copy of the engine's state taken just before `route()` (agents, waiting calls, the
previous-agent history and what became free or arrived since the last route), scans and sorts everything,
and replays route's documented order: each newly free agent (longest idle first) takes the first call in
line over all its queues, unless that call is new, which then goes to the best free agent by its queue's
strategy; then each new call, first in line first, goes to the best free agent. Agents whose scores are
exactly equal may be picked in either order; the reference accepts any of them and follows the engine's.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from appliance.domain.acd import (AcdEngine, Agent, AgentState, Call, CallState, DecisionAction, InvalidTransition,
                                  OverflowRule, OverflowWhen, PriorityMode, QueueConfig, ReadinessMode, Rule, Strategy)
from appliance.domain.acd.calls import WAITING_STATES

SKILLS = ("sv", "en", "tech")
LANGS = ("sv", "en")
PICKING_RULE = {Strategy.LONGEST_IDLE: Rule.LONGEST_IDLE, Strategy.FEWEST_CALLS: Rule.FEWEST_CALLS,
                Strategy.SKILL_WEIGHTED: Rule.SKILL_WEIGHTED}


@dataclass
class AgentView:
    """What routing reads of an agent, copied before route()."""

    id: str
    available: bool
    idle_since: float
    calls_taken: int
    skills: dict[str, int]
    languages: frozenset[str]


@dataclass
class CallView:
    """What routing reads of a waiting call, copied before route()."""

    id: str
    caller: str
    queue_ids: tuple[str, ...]
    priority: int
    enqueued_at: float
    seq: int
    language: str | None
    required_skill: str | None
    required_level: int


def needs(queue: QueueConfig, call: CallView) -> dict[str, int]:
    """The skills and minimum levels a call needs in a queue."""
    out = dict(queue.skills)
    if call.required_skill is not None:
        out[call.required_skill] = max(out.get(call.required_skill, 0), call.required_level)
    return out


def admits(queue: QueueConfig, agent: AgentView, call: CallView) -> bool:
    """May this agent take this call in this queue (members, skills and levels, language)?"""
    if queue.members is not None and agent.id not in queue.members:
        return False
    if any(agent.skills.get(skill, 0) < level for skill, level in needs(queue, call).items()):
        return False
    return call.language is None or call.language in agent.languages


def line_key(queue: QueueConfig, call: CallView) -> tuple:
    """A call's place in a queue's line: absolute priority, or priority as extra wait (weighted); then arrival."""
    if queue.priority_mode is PriorityMode.WEIGHTED:
        return (0, call.enqueued_at - call.priority * queue.priority_weight_s, call.seq)
    return (-call.priority, call.enqueued_at, call.seq)


def agent_score(strategy: Strategy, queue: QueueConfig, agent: AgentView, call: CallView) -> tuple:
    """How a queue's strategy ranks a free agent for a call; smallest first."""
    if strategy is Strategy.FEWEST_CALLS:
        return (agent.calls_taken, agent.idle_since)
    if strategy is Strategy.SKILL_WEIGHTED:
        return (-sum(agent.skills.get(skill, 0) for skill in needs(queue, call)), agent.idle_since)
    return (agent.idle_since,)


class Reference:
    """Brute-force routing over a copy of the engine's state; checks the engine's decisions one by one."""

    def __init__(self, engine: AcdEngine, queues: dict[str, QueueConfig], now: float) -> None:
        self.queues = queues
        self.now = now
        self.agents = {a.id: AgentView(a.id, a.available, a.idle_since, a.calls_taken, dict(a.skills), a.languages)
                       for a in engine.agents()}
        self.waiting = {c.id: CallView(c.id, c.caller, c.queue_ids, c.priority, c.enqueued_at, c.seq, c.language,
                                       c.required_skill, c.required_level)
                        for c in engine.live_calls() if c.state in WAITING_STATES}
        self.history = dict(engine._history)
        self.pending_agents = [a.id for a in engine._pending_agents]
        self.pending_calls = [c.id for c in engine._pending_calls]
        self.skip = len(engine._decisions)  # overflow decisions made before route() come first

    # --- the two questions routing asks ---
    def first_in_line(self, agent: AgentView) -> tuple[CallView, set[str]] | None:
        """The call a free agent takes: queue rank, then its line; with the queue(s) it may be taken in (a call
        searching two queues can be first in both with the same key)."""
        ranked = sorted(((-self.queues[q].rank, *line_key(self.queues[q], call)), call.id, q)
                        for call in self.waiting.values() for q in call.queue_ids
                        if admits(self.queues[q], agent, call))
        if not ranked:
            return None
        top = ranked[0][0]
        return self.waiting[ranked[0][1]], {q for key, _, q in ranked if key == top}

    def best_agents(self, call: CallView) -> tuple[set[str], set[str], Rule, bool] | None:
        """(queue, the agents any of which may be picked, rule, ring all) for a call, or None."""
        free = [a for a in self.agents.values() if a.available]
        for queue_id in call.queue_ids:
            queue = self.queues[queue_id]
            able = [a for a in free if admits(queue, a, call)]
            if not able:
                continue
            if queue.strategy is Strategy.RING_ALL:
                return {queue_id}, {a.id for a in able}, Rule.RING_ALL, True
            strategy = queue.strategy
            if strategy is Strategy.PREVIOUS_AGENT:
                last = self.history.get(call.caller) if call.caller else None
                if last is not None and self.now - last[1] <= queue.previous_agent_window_s \
                        and last[0] in {a.id for a in able}:
                    return {queue_id}, {last[0]}, Rule.PREVIOUS_AGENT, False
                strategy = queue.fallback
            scores = {a.id: agent_score(strategy, queue, a, call) for a in able}
            top = min(scores.values())
            return {queue_id}, {a for a, s in scores.items() if s == top}, PICKING_RULE[strategy], False
        return None

    # --- the walk ---
    def check(self, decisions: list) -> None:
        """Replay route() by brute force and compare each of the engine's offers with it."""
        offers = [d for d in decisions[self.skip:]]
        assert all(d.action is DecisionAction.OFFER for d in offers)
        self.offers = iter(offers)
        fresh = set(self.pending_calls)
        order = sorted(dict.fromkeys(self.pending_agents), key=lambda a: self.agents[a].idle_since)
        # route() walks its pending list with duplicates; the second visit of an agent finds nothing new
        for agent_id in order:
            agent = self.agents[agent_id]
            while agent.available:
                found = self.first_in_line(agent)
                if found is None:
                    break
                call, queue_ids = found
                if call.id in fresh:
                    self.expect(call, self.best_agents(call))
                else:
                    self.expect(call, (queue_ids, {agent.id}, Rule.FIRST_IN_LINE, False))
        pending = sorted({c for c in self.pending_calls if c in self.waiting},
                         key=lambda c: (-self.queues[self.waiting[c].queue_ids[0]].rank,
                                        *line_key(self.queues[self.waiting[c].queue_ids[0]], self.waiting[c])))
        for call_id in pending:
            call = self.waiting.get(call_id)
            if call is not None:
                best = self.best_agents(call)
                if best is not None:
                    self.expect(call, best)
        assert next(self.offers, None) is None, "the engine made an offer the reference did not"

    def expect(self, call: CallView, best: tuple[set[str], set[str], Rule, bool] | None) -> None:
        assert best is not None
        queue_ids, agents, rule, ring_all = best
        decision = next(self.offers, None)
        assert decision is not None, f"the reference offers {call.id} to one of {sorted(agents)}, the engine not"
        assert (decision.call_id, decision.rule) == (call.id, rule) and decision.queue_id in queue_ids, decision
        picked = set(decision.agent_ids)
        if ring_all:
            assert picked == agents
        else:
            assert len(picked) == 1 and picked <= agents, (decision, sorted(agents))
        # the explanation names what was picked
        chosen = [c.id for c in decision.candidates if c.picked]
        assert chosen == ([call.id] if rule is Rule.FIRST_IN_LINE else list(decision.agent_ids))
        for agent_id in picked:
            self.agents[agent_id].available = False
        del self.waiting[call.id]


class ReferenceMachine(RuleBasedStateMachine):
    """Random sites and event sequences; every route() is checked against the reference."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = AcdEngine(pause_reasons=("lunch", "no_answer"))
        self.now = 0.0
        self.ids = itertools.count()
        self.queues: dict[str, QueueConfig] = {}

    @initialize(data=st.data(), n_agents=st.integers(2, 9))
    def site(self, data: st.DataObject, n_agents: int) -> None:
        strategies = st.sampled_from(list(Strategy))
        for i, queue_id in enumerate(("q0", "q1", "q2")):
            skills = data.draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 4), max_size=1))
            # mostly open to every able agent, sometimes a member list
            members = data.draw(st.one_of(st.none(), st.none(), st.frozensets(
                st.sampled_from([f"a{n}" for n in range(n_agents)]), min_size=2)))
            strategy = data.draw(strategies)
            fallback = data.draw(st.sampled_from([Strategy.LONGEST_IDLE, Strategy.FEWEST_CALLS,
                                                  Strategy.SKILL_WEIGHTED]))
            overflow = ((OverflowRule(OverflowWhen.WAIT_OVER, 10.0, to_queue="q0", keep_searching=True),)
                        if i and data.draw(st.booleans()) else ())
            queue = QueueConfig(queue_id, skills=skills, members=members, strategy=strategy, fallback=fallback,
                                rank=data.draw(st.integers(0, 1)), offer_timeout_s=data.draw(st.sampled_from([0, 8])),
                                priority_mode=data.draw(st.sampled_from(list(PriorityMode))),
                                previous_agent_window_s=60.0, overflow=overflow, no_answer_pause=None)
            self.engine.add_queue(queue)
            self.queues[queue_id] = queue
        for i in range(n_agents):
            skills = data.draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(2, 10), min_size=1, max_size=3))
            langs = data.draw(st.frozensets(st.sampled_from(LANGS), min_size=1))
            self.engine.add_agent(Agent(f"a{i}", str(100 + i), skills=skills, languages=langs))
            if data.draw(st.booleans()):
                # logged in at whole seconds: equal idle times happen, as on a real site's morning
                self.engine.agent_login(f"a{i}", float(data.draw(st.integers(0, 3))))
        self.now = 3.0
        self.route()

    def pick(self, data: st.DataObject, ids: list[str]) -> str | None:
        return data.draw(st.sampled_from(sorted(ids))) if ids else None

    @rule(data=st.data(), dt=st.sampled_from([0.0, 0.5, 1.0, 3.0]))
    def agent_changes(self, data: st.DataObject, dt: float) -> None:
        self.now += dt
        agent_id = self.pick(data, [a.id for a in self.engine.agents()])
        agent = self.engine.agent(agent_id)
        what = data.draw(st.sampled_from(["login", "logout", "ready", "pause", "outbound", "inbound"]))
        try:
            if what == "login":
                self.engine.agent_login(agent_id, self.now)
            elif what == "logout":
                self.engine.agent_logout(agent_id, self.now)
            elif what == "ready":
                self.engine.set_ready(agent_id, self.now)
            elif what == "pause":
                self.engine.pause(agent_id, "lunch", self.now)
            elif agent.state is not AgentState.LOGGED_OUT:
                mode = ReadinessMode.OUTBOUND if what == "outbound" else ReadinessMode.INBOUND
                self.engine.set_mode(agent_id, mode, self.now)
        except InvalidTransition:
            pass
        self.route()

    @rule(queue=st.sampled_from(["q0", "q1", "q2"]), priority=st.integers(0, 2),
          lang=st.one_of(st.none(), st.none(), st.sampled_from(LANGS)),
          extra=st.one_of(st.none(), st.none(), st.sampled_from(SKILLS)),
          level=st.integers(1, 8), caller=st.sampled_from(["", "0701", "0702"]),
          dt=st.sampled_from([0.0, 0.5, 2.0]))
    def arrive(self, queue: str, priority: int, lang: str | None, extra: str | None, level: int, caller: str,
               dt: float) -> None:
        self.now += dt
        call = Call(f"c{next(self.ids)}", caller=caller, priority=priority, language=lang, required_skill=extra,
                    required_level=level)
        self.engine.enqueue(call, queue, self.now)
        self.route()

    @rule(data=st.data(), what=st.sampled_from(["answer", "decline", "end", "abandon", "callback", "to_queue"]),
          dt=st.sampled_from([0.0, 1.0, 4.0]))
    def call_changes(self, data: st.DataObject, what: str, dt: float) -> None:
        self.now += dt
        live = self.engine.live_calls()
        offered = [c for c in live if c.state is CallState.OFFERED]
        talking = [c.id for c in live if c.state is CallState.CONNECTED]
        if what in ("answer", "decline") and offered:
            call = self.engine.call(self.pick(data, [c.id for c in offered]))
            agent_id = self.pick(data, list(call.offered_to))
            self.engine.offer_result(call.id, agent_id, what == "answer", self.now)
        elif what == "end" and talking:
            self.engine.call_ended(self.pick(data, talking), self.now)
        elif what == "to_queue" and talking:
            self.engine.transfer(self.pick(data, talking), self.now, to_queue=data.draw(st.sampled_from(["q0", "q1"])))
        elif what == "abandon" and live:
            call_id = self.pick(data, [c.id for c in live if c.state is not CallState.CONNECTED])
            if call_id is not None:
                self.engine.abandon(call_id, self.now)
        elif what == "callback":
            call_id = self.pick(data, [c.id for c in live if c.state is CallState.QUEUED])
            if call_id is not None:
                self.engine.request_callback(call_id, "0709", self.now)
        self.route()

    @rule(dt=st.sampled_from([1.0, 9.0, 15.0]))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.engine.tick(self.now)
        self.route()

    def route(self) -> None:
        reference = Reference(self.engine, self.queues, self.now)
        reference.check(self.engine.route(self.now))


ReferenceMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow])
TestRoutingMatchesReference = ReferenceMachine.TestCase


def test_reference_sees_a_wrong_pick() -> None:
    """The check can fail: an engine offering a call to the longer-busy of two agents is caught."""
    queue = QueueConfig("q0")
    engine = AcdEngine()
    engine.add_queue(queue)
    for agent_id, at in (("a0", 1.0), ("a1", 2.0)):
        engine.add_agent(Agent(agent_id, agent_id[1:] or "1"))
        engine.agent_login(agent_id, at)
    engine.route(2.0)
    engine.enqueue(Call("c0"), "q0", 3.0)
    reference = Reference(engine, {"q0": queue}, 3.0)
    decisions = engine.route(3.0)
    assert decisions[0].agent_ids == ("a0",)
    decisions[0].offers = (type(decisions[0].offers[0])("a1", "1", ""),)
    try:
        reference.check(decisions)
    except AssertionError:
        return
    raise AssertionError("the reference accepted the wrong agent")
