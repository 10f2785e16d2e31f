"""The bridge between the PBX adapter and the ACD engine: calls in, routing decisions out, queue scripts run
per caller, events to the bus, and one history record per call.

Everything runs on the event loop; the engine is pure and fast (microseconds per decision), so it is called
inline. Adapter reports are plain method calls that change the engine and wake the routing loop.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from appliance.bus import Bus, Event, EventKind
from appliance.domain.acd import (AcdEngine, AcdError, AcdEvent, AcdEventKind, Agent, AgentState, Call,
                                  CallState, Decision, DecisionAction, QueueConfig, ReadinessMode)
from appliance.domain.queue_script import Script, ScriptRun, Survey
from appliance.pbx.adapter import PbxAdapter, Recording, UnsupportedAction
from appliance.pbx.call_control import CallControl
from appliance.pbx.script_steps import ScriptSteps
from appliance.pbx.kpi import Outcome, RollingKpis
from appliance.pbx.verification import CallVerification

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL_S = 1.0   # wallboard refresh published on the bus
SNAPSHOT_SLICE = 100        # agents of the snapshot built per pass of the event loop
IDLE_WAKE_S = 1.0           # the routing loop looks at the clock at least this often
DECISION_LOG = 200          # recent routing decisions kept for the "why this agent" view

Recorder = Callable[[dict[str, Any]], Awaitable[None]]
Identify = Callable[[str, str, str], Awaitable[dict[str, Any]]]  # (caller, digits, queue id) -> customer
KeepRecording = Callable[[Recording], Awaitable[dict[str, Any]]]  # audio -> {"digest", "content_type", …}


@dataclass
class CallMeta:
    """What the bridge knows of a call beyond the engine's view."""

    call_id: str
    caller: str
    dialled: str
    queue_id: str
    arrived_wall: float
    arrived: float
    digits: str = ""
    direction: str = "inbound"
    script_task: asyncio.Task | None = None
    run: ScriptRun | None = None
    outcome: str | None = None
    survey_prompt: str | None = None
    survey_score: int | None = None
    survey: Survey | None = None
    survey_answers: list[int | None] = field(default_factory=list)
    voicemail: dict[str, Any] | None = None  # {"to", "digest", "content_type", "duration_s", "size"}
    customer: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    answered_by: str | None = None
    answered_at: float | None = None
    identified: asyncio.Task | None = None
    parties: list[dict[str, Any]] = field(default_factory=list)  # consultations, transfers, three-ways (B3)
    muted: set[str] = field(default_factory=set)
    held: bool = False
    verification: dict[str, Any] | None = None  # the IVR verification the agent asked for, and its result


class AcdBridge(CallControl, CallVerification, ScriptSteps):
    """Runs the ACD for one appliance: see the module note."""

    def __init__(self, engine: AcdEngine, adapter: PbxAdapter, bus: Bus, *, scripts: dict[str, Script] | None = None,
                 dialled_to_queue: dict[str, str] | None = None, default_queue: str | None = None,
                 recorder: Recorder | None = None, identify: Identify | None = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 time_scale: float = 1.0) -> None:
        self.engine, self.adapter, self.bus = engine, adapter, bus
        self.scripts = scripts or {}
        self.dialled_to_queue = dialled_to_queue or {}
        self.default_queue = default_queue
        self.recorder, self.identify = recorder, identify
        self.clock, self.wall, self.time_scale = clock, wall, time_scale
        self.meta: dict[str, CallMeta] = {}
        self.kpis = RollingKpis()
        self.recent_decisions: deque[dict[str, Any]] = deque(maxlen=DECISION_LOG)
        self.agent_names: dict[str, str] = {}
        self.external_phones: dict[str, str] = {}  # agent id -> the outside number offers ring (B12 phone mode)
        # hot prompts switched on (outage notices, B8/B10) as (tenant, name, language); tenant None: for every
        # tenant, language "": for every caller
        self.hot_prompts: set[tuple[int | None, str, str]] = set()
        self.queue_tenants: dict[str, int] = {}  # queue id -> tenant, for the hot prompts
        self.keep_recording: KeepRecording | None = None  # stores a voice message's audio, returns its reference
        self.last_snapshot: dict[str, Any] | None = None  # the one published last (metrics reuse it)
        self.stale_reports = 0
        self.adapter_connected = False
        self.adapter_detail = ""
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self.last_loop_at = clock()
        adapter.attach(self)

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        """Route until cancelled; the adapter runs beside it."""
        adapter_task = asyncio.create_task(self.adapter.run(), name=f"pbx-{self.adapter.name}")
        snapshot_at = 0.0
        try:
            while True:
                if adapter_task.done():
                    adapter_task.result()  # an adapter that died takes the bridge with it: the supervisor restarts
                    raise RuntimeError(f"PBX adapter {self.adapter.name} stopped")
                # Cleared before the work, not after it: a report arriving while a decision is applied or the
                # snapshot is built (both await) keeps the wake set, so the next pass sees it without waiting.
                self._wake.clear()
                now = self.clock()
                self.last_loop_at = now
                for decision in self.engine.advance(now):
                    await self._apply(decision)
                self._publish(self.engine.drain_events())
                if now - snapshot_at >= SNAPSHOT_INTERVAL_S:
                    snapshot_at = now
                    self.last_snapshot = await self.snapshot_in_slices()
                    self.bus.publish(Event(EventKind.QUEUE_STATS, self.last_snapshot))
                deadline = self.engine.next_deadline()
                timeout = IDLE_WAKE_S if deadline is None else max(0.0, min(IDLE_WAKE_S, deadline - self.clock()))
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
        finally:
            adapter_task.cancel()
            for task in list(self._tasks):
                task.cancel()

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("pbx task %s failed: %r", task.get_name(), task.exception())

    def _guard(self, what: str, fn: Callable[[], Any]) -> bool:
        # Reports race with each other (a caller hangs up as the agent answers): the engine refuses the
        # impossible one and the bridge counts it instead of crashing.
        try:
            fn()
            return True
        except AcdError as exc:
            self.stale_reports += 1
            log.info("acd ignored %s: %s", what, exc)
            return False
        finally:
            self._wake.set()

    def hot_on(self, queue_id: str | None, name: str, language: str | None = None) -> bool:
        """True if the hot prompt is switched on for this queue's tenant (or for every tenant) and a caller of
        this language (or every caller)."""
        return self.hot_language(queue_id, name, language) is not None

    def hot_language(self, queue_id: str | None, name: str, language: str | None) -> str | None:
        """Which switch plays the hot prompt to a caller of `language`: that language's, else the one for every
        caller (""), else None (silent)."""
        on, tenant = self.hot_prompts, self.queue_tenants.get(queue_id or "")
        for lang in ((language, "") if language else ("",)):
            if (None, name, lang) in on or (tenant, name, lang) in on:
                return lang
        return None

    # ------------------------------------------------------------------ decisions and events
    async def _apply(self, decision: Decision) -> None:
        data = decision.to_data()
        data["at_wall"] = self.wall()
        self.recent_decisions.append(data)
        meta = self.meta.get(decision.call_id)
        if meta is not None:
            meta.decisions.append(data)
        self.bus.publish(Event(EventKind.ROUTING_DECISION, data))
        try:
            if decision.action is DecisionAction.OFFER:
                for offer in decision.offers:
                    phone = self.external_phones.get(offer.agent_id, offer.extension)
                    await self.adapter.offer(decision.call_id, offer.agent_id, phone, offer.caller_display)
            elif decision.action is DecisionAction.REDIRECT:
                if meta is not None:
                    meta.outcome = "overflowed"
                await self.adapter.redirect(decision.call_id, decision.target or "")
            elif decision.action is DecisionAction.DISCONNECT:
                await self.adapter.hangup(decision.call_id)
        except UnsupportedAction as exc:
            log.warning("pbx adapter cannot carry out %s: %s", decision.action.value, exc)

    def _publish(self, events: list[AcdEvent]) -> None:
        now = self.clock()
        for ev in events:
            data = ev.to_data()
            meta = self.meta.get(ev.call_id) if ev.call_id else None
            if meta is not None:
                data.update(caller=meta.caller, dialled=meta.dialled, digits=meta.digits,
                            customer=meta.customer)
            if ev.kind is AcdEventKind.CALL_OFFERED and ev.call_id:
                call = self._call_or_none(ev.call_id)
                if call is not None:
                    data["wait_s"] = round(now - call.enqueued_at, 1)
                    data["caller_display"] = self._display_for(ev.call_id, ev.agent_id)
                    if ev.agent_id in self.external_phones:
                        data["phone"] = self.external_phones[ev.agent_id]  # rings the agent's outside number
            self.bus.publish(Event(EventKind(ev.kind.value), data))
            self._track(ev, now)

    def _display_for(self, call_id: str, agent_id: str | None) -> str:
        for d in reversed(self.meta[call_id].decisions if call_id in self.meta else []):
            for offer in d["offers"]:
                if offer["agent_id"] == agent_id:
                    return offer["caller_display"]
        return ""

    def _track(self, ev: AcdEvent, now: float) -> None:
        meta = self.meta.get(ev.call_id) if ev.call_id else None
        if meta is None:
            return
        call = self._call_or_none(ev.call_id)
        if ev.kind is AcdEventKind.CALL_ANSWERED:
            meta.answered_by, meta.answered_at = ev.agent_id, now
            if call is not None and not call.is_callback:
                self.kpis.record(Outcome(now, meta.queue_id, True, now - call.enqueued_at))
        elif ev.kind is AcdEventKind.CALL_ABANDONED:
            meta.outcome = "abandoned"
            meta.notes.append(f"lost: {ev.reason}")
            wait = now - call.enqueued_at if call is not None else now - meta.arrived
            self.kpis.record(Outcome(now, meta.queue_id, False, wait))
            self._finish(meta, loss=ev.reason)
        elif ev.kind is AcdEventKind.CALL_ENDED:
            meta.outcome = "answered"
            self._finish(meta)
        elif ev.kind is AcdEventKind.CALL_OVERFLOWED:
            if call is None or call.state is CallState.OVERFLOWED:
                meta.outcome = "overflowed"
                meta.notes.append(f"overflow to {ev.target}")
                self._finish(meta)
        elif ev.kind is AcdEventKind.CALL_TRANSFERRED and (call is None or call.state is CallState.TRANSFERRED):
            # None: the engine has let go of a call handed to an outside number (blind, attended, three-way)
            meta.outcome = "transferred"
            meta.notes.append(f"transferred to {ev.target}")
            self._finish(meta)

    def _finish(self, meta: CallMeta, loss: str | None = None) -> None:
        if meta.script_task is not None and not meta.script_task.done():
            meta.script_task.cancel()
        if meta.survey_prompt and meta.outcome == "answered":
            self._spawn(self._survey(meta), f"survey-{meta.call_id}")
            return
        self._spawn(self._record(meta, loss), f"record-{meta.call_id}")

    async def _survey(self, meta: CallMeta) -> None:
        survey = meta.survey or Survey(meta.survey_prompt or "")
        try:
            answers = await self.adapter.perform(meta.call_id, survey)
            meta.survey_answers = survey.answers_from(answers)
            meta.survey_score = next((a for a in meta.survey_answers if a is not None), None)
            if not meta.survey_answers:  # no key pressed, or the caller hung up instead
                meta.notes.append("survey not answered")
        except (UnsupportedAction, ValueError, TypeError) as exc:
            meta.notes.append(f"survey not taken: {exc}")
        await self._record(meta, None)

    async def _record(self, meta: CallMeta, loss: str | None) -> None:
        self.remember_finished(meta)
        self.meta.pop(meta.call_id, None)
        now = self.clock()
        record = {
            "call_id": meta.call_id, "direction": meta.direction, "caller": meta.caller, "dialled": meta.dialled,
            "queue_id": meta.queue_id, "agent_id": meta.answered_by, "digits": meta.digits,
            "outcome": meta.outcome or "ended", "loss": loss,
            "arrived_at": meta.arrived_wall,
            "wait_s": round((meta.answered_at or now) - meta.arrived, 2),
            "talk_s": round(now - meta.answered_at, 2) if meta.answered_at else 0.0,
            "survey_score": meta.survey_score, "notes": meta.notes, "customer": meta.customer,
            "survey": {"questions": list(meta.survey.questions or (meta.survey.prompt,)), "scale": meta.survey.scale,
                       "answers": meta.survey_answers} if meta.survey and meta.survey_answers else None,
            "voicemail": meta.voicemail,
            "decision": meta.decisions[-1] if meta.decisions else None, "parties": meta.parties,
        }
        self.bus.publish(Event(EventKind.CALL_RECORDED, record))
        if self.recorder is not None:
            await self.recorder(record)

    def _call_or_none(self, call_id: str | None) -> Call | None:
        try:
            return self.engine.call(call_id) if call_id else None
        except AcdError:
            return None

    # ------------------------------------------------------------------ adapter reports (PbxSink)
    def call_arrived(self, call_id: str, caller: str, dialled: str, queue_id: str | None = None,
                     digits: str = "") -> None:
        """A caller reached the ACD; its queue comes from the adapter, the dialled number, or the default."""
        queue_id = queue_id or self.dialled_to_queue.get(dialled) or self.default_queue
        if queue_id is None or queue_id not in {q.id for q in self.engine.queues()}:
            log.warning("call %s to %s matches no queue; hanging up", call_id, dialled)
            self._spawn(self.adapter.hangup(call_id), f"hangup-{call_id}")
            return
        meta = CallMeta(call_id, caller, dialled, queue_id, self.wall(), self.clock(), digits)
        self.meta[call_id] = meta
        if self.identify is not None:
            # Identified while the caller hears the script, so the offer carries the customer (D5 screen pop).
            meta.identified = self._spawn(self._identify_early(meta), f"identify-{call_id}")
        self.bus.publish(Event(EventKind.CALL_QUEUED, {"call_id": call_id, "caller": caller, "dialled": dialled,
                                                       "queue_id": queue_id, "stage": "arrived"}))
        meta.script_task = self._spawn(self._run_script(meta), f"script-{call_id}")

    def caller_hung_up(self, call_id: str) -> None:
        """The caller left before or while being offered (or during the script)."""
        meta = self.meta.get(call_id)
        call = self._call_or_none(call_id)
        if call is None:
            if meta is not None and meta.outcome is None:  # gone during the script, before queueing: lost in the IVR
                # (an outcome already set is the script's own hangup or overflow, whose step records the call)
                meta.outcome = "abandoned"
                self._finish(meta, loss="abandoned_in_ivr")
            return
        if call.state is CallState.CONNECTED:
            self.call_hung_up(call_id)
        else:
            self._guard(f"abandon {call_id}", lambda: self.engine.abandon(call_id, self.clock()))

    def offer_answered(self, call_id: str, agent_id: str) -> None:
        """The agent picked up."""
        self._guard(f"answer {call_id} by {agent_id}",
                    lambda: self.engine.call_answered(call_id, agent_id, self.clock()))

    def offer_rejected(self, call_id: str, agent_id: str) -> None:
        """The agent declined or did not answer in time (the PBX's own timeout)."""
        self._guard(f"reject {call_id} by {agent_id}",
                    lambda: self.engine.offer_result(call_id, agent_id, False, self.clock()))

    def call_hung_up(self, call_id: str) -> None:
        """A connected call ended (either side hung up)."""
        self._guard(f"end {call_id}", lambda: self.engine.call_ended(call_id, self.clock()))

    def adapter_state(self, connected: bool, detail: str = "") -> None:
        """The link to the PBX came up or went down."""
        self.adapter_connected, self.adapter_detail = connected, detail

    def request_callback(self, queue_id: str, number: str, call_id: str) -> None:
        """C13: a callback asked for on the web joins the queue as a virtual call."""
        call = Call(call_id, caller=number)
        self.engine.enqueue_callback(call, queue_id, number, self.clock())
        self.meta[call_id] = CallMeta(call_id, number, "web", queue_id, self.wall(), self.clock(),
                                      direction="callback")
        self._wake.set()

    # ------------------------------------------------------------------ agents and call control (desk API)
    def login(self, agent_id: str, mode: str = "inbound", pause_reason: str | None = None,
              phone: str | None = None) -> None:
        """Log an agent in with a readiness mode (B5); with `phone`, an outside number (E.164) that their offers
        ring instead of the extension until logout (external phone mode, B12)."""
        self.engine.agent_login(agent_id, self.clock(), ReadinessMode(mode), pause_reason)
        if phone:
            self.external_phones[agent_id] = phone
        else:
            self.external_phones.pop(agent_id, None)
        self._wake.set()

    def logout(self, agent_id: str) -> None:
        """Log an agent out (back to the extension for the next login)."""
        self.engine.agent_logout(agent_id, self.clock())
        self.external_phones.pop(agent_id, None)
        self._wake.set()

    def ready(self, agent_id: str) -> None:
        """Ready for calls."""
        self.engine.set_ready(agent_id, self.clock())
        self._wake.set()

    def pause(self, agent_id: str, reason: str) -> None:
        """Pause with a reason."""
        self.engine.pause(agent_id, reason, self.clock())
        self._wake.set()

    async def answer(self, call_id: str, agent_id: str) -> None:
        """The agent answers the offered call from the desk."""
        self.engine.call_answered(call_id, agent_id, self.clock())
        self._wake.set()
        await self.adapter.answer(call_id, agent_id)

    async def hangup(self, call_id: str) -> None:
        """The agent ends the call from the desk."""
        self.engine.call_ended(call_id, self.clock())
        self._wake.set()
        await self.adapter.hangup(call_id)

    async def transfer(self, call_id: str, to_queue: str | None = None, to_number: str | None = None) -> None:
        """Blind transfer into another queue or out to a number."""
        self.engine.transfer(call_id, self.clock(), to_queue=to_queue, to_number=to_number)
        self._wake.set()
        if to_number:
            await self.adapter.redirect(call_id, to_number)

    async def hold(self, call_id: str, on: bool) -> None:
        """Hold or retrieve the caller."""
        await self.hold_noted(call_id, on)

    @property
    def can_dial(self) -> bool:
        """Whether the adapter places outbound calls (AMI Originate, CSTA MakeCall, the simulator)."""
        return type(self.adapter).dial is not PbxAdapter.dial

    async def dial(self, agent_id: str, number: str) -> str:
        """Call a number from the agent's phone (B3); UnsupportedAction when the adapter cannot."""
        agent = self.engine.agent(agent_id)
        # external phone mode: the PBX calls the agent's outside number first, then the customer
        return await self.adapter.dial(agent_id, self.external_phones.get(agent_id, agent.extension), number)

    # ------------------------------------------------------------------ live configuration
    def upsert_agent(self, agent: Agent, name: str) -> bool:
        """Add a person as an agent, or update a known one's profile live; True when new."""
        self.agent_names[agent.id] = name
        try:
            known = self.engine.agent(agent.id)
        except AcdError:
            self.engine.add_agent(agent)
            return True
        known.name, known.wrap_up_s = agent.name, agent.wrap_up_s
        if known.state is AgentState.LOGGED_OUT:
            known.extension = agent.extension  # a phone that rings now keeps its number until logout
        self.engine.update_agent(agent.id, skills=agent.skills)
        return False

    def drop_agent(self, agent_id: str) -> bool:
        """Remove an agent whose phone profile is gone; only once logged out (else False)."""
        try:
            self.engine.remove_agent(agent_id)
        except AcdError:
            return False
        self.agent_names.pop(agent_id, None)
        return True

    def configure_queue(self, queue: QueueConfig) -> None:
        """Add a queue or replace its configuration live (waiting calls keep their places)."""
        self.engine.add_queue(queue)
        self._wake.set()

    # ------------------------------------------------------------------ views
    def snapshot(self) -> dict[str, Any]:
        """Every queue with its waiting calls, agents and KPIs (today and last 15 min): the wallboard's data."""
        now = self.clock()
        return self._snapshot([self._queue_view(q, now) for q in self.engine.queues()],
                              [self._agent_view(a, now) for a in self.engine.agents()
                               if a.state is not AgentState.LOGGED_OUT])

    async def snapshot_in_slices(self) -> dict[str, Any]:
        """The same, built a queue or SNAPSHOT_SLICE agents per pass of the event loop: with hundreds of agents
        the whole snapshot is milliseconds of work, which would delay every socket and timer at once."""
        now = self.clock()
        queues = []
        for queue in list(self.engine.queues()):
            queues.append(self._queue_view(queue, now))
            await asyncio.sleep(0)
        agents = [a for a in self.engine.agents() if a.state is not AgentState.LOGGED_OUT]
        views = []
        for start in range(0, len(agents), SNAPSHOT_SLICE):
            views.extend(self._agent_view(a, now) for a in agents[start:start + SNAPSHOT_SLICE])
            await asyncio.sleep(0)
        return self._snapshot(queues, views)

    def _snapshot(self, queues: list[dict[str, Any]], agents: list[dict[str, Any]]) -> dict[str, Any]:
        return {"queues": queues, "agents": agents, "adapter": self.adapter.name,
                "connected": self.adapter_connected}

    def _queue_view(self, queue: QueueConfig, now: float) -> dict[str, Any]:
        waiting = [{"call_id": c.id, "caller": self.meta[c.id].caller if c.id in self.meta else c.caller,
                    "digits": c.entered_digits, "wait_s": round(now - c.enqueued_at, 1),
                    "priority": c.priority, "callback": c.is_callback}
                   for c in self.engine.waiting_calls(queue.id)]
        stats = self.engine.stats(queue.id).to_data()
        logged_in, working, free = self.engine.staffing(queue.id)
        return {"id": queue.id, "name": queue.name or queue.id, "sl_target_s": queue.sl_target_s,
                "sl_goal": queue.sl_goal, "waiting": waiting,
                "longest_wait_s": max((w["wait_s"] for w in waiting), default=0.0),
                "agents_logged_in": logged_in, "agents_working": working, "agents_free": free,
                "today": stats, "last_15_min": self.kpis.summary(queue.id, now, queue.sl_target_s)}

    def _agent_view(self, a: Agent, now: float) -> dict[str, Any]:
        return {"id": a.id, "name": self.agent_names.get(a.id, a.name or a.id), "extension": a.extension,
                "state": a.state.value, "reason": a.pause_reason, "mode": a.mode.value,
                "since_s": round(now - a.state_since, 1), "call_id": a.call_id, "calls_taken": a.calls_taken,
                # external phone mode is shown, the private number is not (the wallboard is seen by many)
                "skills": dict(a.skills), **({"external_phone": True} if a.id in self.external_phones else {})}
