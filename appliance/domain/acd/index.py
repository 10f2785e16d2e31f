"""The routing index: waiting calls and free agents per segment, so no decision scans every agent.

A segment is a queue plus whatever a call adds to it (a language, an extra skill from caller routing).
Each segment holds a heap of its waiting calls keyed by (priority, enqueue time) and a heap of its free
agents keyed by the queue's strategy. Entries are removed lazily: each carries the version (call) or epoch
(agent) it was pushed with, and a stale one is dropped when it reaches the top; heaps that grow much larger
than their live content are rebuilt.
"""
from __future__ import annotations

import heapq
import itertools
from typing import Iterable

from appliance.domain.acd.agents import Agent, AgentState, ReadinessMode
from appliance.domain.acd.calls import WAITING_STATES, Call
from appliance.domain.acd.queues import QueueConfig
from appliance.domain.acd.strategies import agent_key, call_key

SegmentKey = tuple[str, "str | None", "str | None", int]

# rebuild a heap once its stale entries outnumber the live ones by this factor (plus a floor)
_COMPACT_FACTOR = 3
_COMPACT_FLOOR = 64


class Segment:
    """Calls of one queue with the same extra needs, and the agents able to take them."""

    __slots__ = ("key", "queue", "language", "skill", "level", "requirements", "calls", "free", "eligible",
                 "logged_in", "working", "n_calls")

    def __init__(self, key: SegmentKey, queue: QueueConfig) -> None:
        self.key = key
        _, self.language, self.skill, self.level = key
        self.queue = queue
        self.requirements: tuple[tuple[str, int], ...] = ()
        self.calls: list[tuple] = []
        self.free: list[tuple] = []
        self.eligible: set[str] = set()
        self.logged_in = 0  # eligible agents logged in
        self.working = 0  # eligible agents logged in for inbound work and not paused
        self.n_calls = 0  # live (waiting) calls in `calls`
        self.configure(queue)

    def configure(self, queue: QueueConfig) -> None:
        """Take a (new) queue configuration: recompute the skill requirements."""
        self.queue = queue
        needs = dict(queue.skills)
        if self.skill is not None:
            needs[self.skill] = max(needs.get(self.skill, 0), self.level)
        self.requirements = tuple(sorted(needs.items()))

    def admits(self, agent: Agent) -> bool:
        """True if the agent may take this segment's calls (membership, skills and levels, language)."""
        members = self.queue.members
        if members is not None and agent.id not in members:
            return False
        skills = agent.skills
        for name, level in self.requirements:
            if skills.get(name, 0) < level:
                return False
        return self.language is None or self.language in agent.languages


def is_working(agent: Agent) -> bool:
    """Logged in for inbound work and not paused: counts towards staffing and wait estimates."""
    return agent.state not in (AgentState.LOGGED_OUT, AgentState.PAUSED) and agent.mode is ReadinessMode.INBOUND


class RoutingIndex:
    """All segments, kept in step with agents and queues by the engine."""

    def __init__(self, agents: dict[str, Agent]) -> None:
        self._agents = agents
        self.segments: dict[SegmentKey, Segment] = {}
        self.by_queue: dict[str, list[Segment]] = {}
        self._seq = itertools.count()

    # --- segments and eligibility ---
    def segment(self, queue: QueueConfig, language: str | None, skill: str | None, level: int) -> Segment:
        """The segment for a queue and a call's extra needs, made (and filled with agents) on first use."""
        key = (queue.id, language, skill, level if skill is not None else 1)
        seg = self.segments.get(key)
        if seg is None:
            seg = self.segments[key] = Segment(key, queue)
            self.by_queue.setdefault(queue.id, []).append(seg)
            for agent in self._agents.values():
                if seg.admits(agent):
                    self._attach(agent, seg)
        return seg

    def _attach(self, agent: Agent, seg: Segment) -> None:
        seg.eligible.add(agent.id)
        agent.segments.append(seg)
        if agent.state is not AgentState.LOGGED_OUT:
            seg.logged_in += 1
        if is_working(agent):
            seg.working += 1
        if agent.available and agent.heap_epoch == agent.epoch:
            self._push_free(seg, agent)

    def _detach(self, agent: Agent, seg: Segment) -> None:
        seg.eligible.discard(agent.id)
        if agent.state is not AgentState.LOGGED_OUT:
            seg.logged_in -= 1
        if is_working(agent):
            seg.working -= 1

    def add_agent(self, agent: Agent) -> None:
        """Attach a new (or re-profiled) agent to every segment that admits it."""
        agent.segments = []
        for seg in self.segments.values():
            if seg.admits(agent):
                self._attach(agent, seg)

    def remove_agent(self, agent: Agent) -> list[Segment]:
        """Detach the agent from all its segments; returns them (their heaps drop it lazily)."""
        old = agent.segments
        for seg in old:
            self._detach(agent, seg)
        agent.segments = []
        # its heap entries must not match any more
        agent.epoch += 1
        agent.heap_epoch = -1
        return old

    def reprofile_agent(self, agent: Agent) -> None:
        """After an agent's skills, languages or groups changed."""
        was_pushed = agent.heap_epoch == agent.epoch and agent.available
        self.remove_agent(agent)
        if was_pushed:
            agent.heap_epoch = agent.epoch
        self.add_agent(agent)

    def reconfigure_queue(self, queue: QueueConfig) -> None:
        """After a queue's members, skills, strategy or priority changed: rebuild its segments."""
        for seg in self.by_queue.get(queue.id, ()):
            for agent_id in list(seg.eligible):
                agent = self._agents[agent_id]
                self._detach(agent, seg)
                agent.segments.remove(seg)
            live_calls = [entry[4] for entry in seg.calls if _call_valid(entry)]
            seg.configure(queue)
            seg.free = []
            seg.calls = []
            seg.n_calls = 0
            for agent in self._agents.values():
                if seg.admits(agent):
                    self._attach(agent, seg)
            for call in live_calls:
                self.push_call(seg, call)

    # --- staffing counters ---
    def count_login(self, agent: Agent, delta: int) -> None:
        """The agent logged in (+1) or out (−1)."""
        for seg in agent.segments:
            seg.logged_in += delta

    def count_working(self, agent: Agent, delta: int) -> None:
        """The agent started (+1) or stopped (−1) counting as working."""
        for seg in agent.segments:
            seg.working += delta

    # --- free agents ---
    def push_agent(self, agent: Agent) -> None:
        """Put an available agent into the free heaps of all its segments (once per availability)."""
        if agent.heap_epoch == agent.epoch:
            return
        agent.heap_epoch = agent.epoch
        for seg in agent.segments:
            self._push_free(seg, agent)

    def _push_free(self, seg: Segment, agent: Agent) -> None:
        free = seg.free
        if len(free) > _COMPACT_FACTOR * len(seg.eligible) + _COMPACT_FLOOR:
            free[:] = [e for e in free if _agent_valid(e)]
            heapq.heapify(free)
        key = agent_key(seg.queue.picking_strategy, agent, seg.requirements)
        heapq.heappush(free, (*key, next(self._seq), agent.epoch, agent))

    # --- waiting calls ---
    def push_call(self, seg: Segment, call: Call) -> None:
        """Put a waiting call into a segment's heap at its (original) place."""
        calls = seg.calls
        if len(calls) > _COMPACT_FACTOR * seg.n_calls + _COMPACT_FLOOR:
            calls[:] = [e for e in calls if _call_valid(e)]
            heapq.heapify(calls)
        first, second = call_key(seg.queue, call)
        heapq.heappush(calls, (first, second, call.seq, call.version, call))
        seg.n_calls += 1

    @staticmethod
    def calls_left(segments: Iterable[Segment]) -> None:
        """A call stopped waiting in these segments (offered, ended, moved)."""
        for seg in segments:
            seg.n_calls -= 1


def _call_valid(entry: tuple) -> bool:
    call = entry[4]
    return call.version == entry[3] and call.state in WAITING_STATES


def _agent_valid(entry: tuple) -> bool:
    agent = entry[-1]
    return agent.epoch == entry[-2] and agent.available


def head_call(seg: Segment) -> tuple | None:
    """The first live entry of a segment's call heap, dropping stale ones on the way."""
    calls = seg.calls
    while calls:
        entry = calls[0]
        call = entry[4]
        if call.version == entry[3] and call.state in WAITING_STATES:
            return entry
        heapq.heappop(calls)
    return None


def head_agent(seg: Segment) -> tuple | None:
    """The first live entry of a segment's free-agent heap, dropping stale ones on the way."""
    free = seg.free
    while free:
        entry = free[0]
        agent = entry[-1]
        if agent.epoch == entry[-2] and agent.available:
            return entry
        heapq.heappop(free)
    return None


def pop_all_agents(seg: Segment) -> list[tuple]:
    """Every live entry of a segment's free-agent heap, best first (ring_all), emptying it."""
    out = []
    free = seg.free
    while free:
        entry = heapq.heappop(free)
        if _agent_valid(entry):
            out.append(entry)
    return out
