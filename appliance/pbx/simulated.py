"""The built-in PBX simulator: callers arrive, listen to the queue script, wait, give up or talk, in real time
(or faster), and simulated agents answer their offers, so the desk and wallboard are alive with no PBX.

Human agents logged in from the desk get real offers: the simulator rings them and waits for the desk's
answer like a phone would. Simulated agents are the ones named in `bots`.
"""
from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
import time
from typing import Any, Callable, Sequence

from appliance.domain.queue_script import (Action, Announce, Collect, Menu, OfferCallback, Play, PlayValue, Survey,
                                           Voicemail)
from appliance.pbx.adapter import PbxAdapter, Recording
from appliance.pbx.sim_calls import SimCallControl
from appliance.pbx.sim_voice import speech_wav


@dataclass(frozen=True)
class SimTraffic:
    """Calls into one queue: by the hour of the day (24 figures) or one rate, and their shape."""

    queue_id: str
    dialled: str
    calls_per_hour: float | Sequence[float]
    handle_mean_s: float = 180.0
    patience_mean_s: float | None = 240.0  # None: callers never give up
    caller_pool: Sequence[str] = ()

    def rate_per_s(self, hour: int) -> float:
        """Arrivals per second at this hour."""
        rates = self.calls_per_hour
        per_hour = rates[hour % 24] if isinstance(rates, Sequence) else rates
        return max(0.0, float(per_hour)) / 3600.0


@dataclass
class _SimCall:
    call_id: str
    traffic: SimTraffic
    caller: str
    patience: asyncio.TimerHandle | None = None
    pending: dict[str, asyncio.TimerHandle] | None = None
    talking: asyncio.TimerHandle | None = None
    gone: bool = False


class SimulatedPbx(SimCallControl, PbxAdapter):
    """A PBX made of timers; `time_scale` < 1 runs it faster (tests, demos)."""

    name = "simulator"

    def __init__(self, traffic: Sequence[SimTraffic], bots: set[str], rng: random.Random | None = None,
                 time_scale: float = 1.0, answer_delay_s: tuple[float, float] = (1.0, 4.0),
                 hour_of_day: Callable[[], int] | None = None, survey_rate: float = 0.6,
                 voice_cap_s: float = 120.0) -> None:
        super().__init__()
        self.survey_rate = survey_rate  # share of callers who answer the after-call survey
        self.voice_cap_s = voice_cap_s  # longest voice message generated (tests keep it short)
        self.traffic = list(traffic)
        self.bots = set(bots)
        self.rng = rng or random.Random()
        self.time_scale = time_scale
        self.answer_delay_s = answer_delay_s
        self.hour_of_day = hour_of_day or (lambda: time.localtime().tm_hour)
        self.calls: dict[str, _SimCall] = {}
        self.ids = itertools.count(1)
        self.counts = {"arrived": 0, "answered": 0, "abandoned": 0, "redirected": 0, "hung_up": 0}
        self.held: set[str] = set()
        self.rung: dict[str, str] = {}  # agent id -> the extension or outside number their last offer rang
        self.arrivals_on = True
        self._seen: set[str] = set()  # call ids this PBX has carried (a finished call is not a callback)  # the admin (or a test) can stop new callers; calls in progress go on

    def _later(self, seconds: float, fn, *args) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, seconds) * self.time_scale, fn, *args)

    async def run(self) -> None:
        assert self.sink is not None
        self.sink.adapter_state(True, "built-in simulator")
        await asyncio.gather(*(self._arrivals(t) for t in self.traffic))
        await asyncio.Event().wait()  # no traffic configured: stay up for desk calls and test arrivals

    async def _arrivals(self, traffic: SimTraffic) -> None:
        while True:
            rate = traffic.rate_per_s(self.hour_of_day())
            if rate <= 0:
                await asyncio.sleep(60 * self.time_scale)
                continue
            await asyncio.sleep(self.rng.expovariate(rate) * self.time_scale)
            if self.arrivals_on:
                self.arrive(traffic)

    def arrive(self, traffic: SimTraffic, caller: str | None = None) -> str:
        """One caller dials in now (also used by tests and the demo button)."""
        call_id = f"sim-{next(self.ids)}"
        if caller is None:
            pool = traffic.caller_pool
            caller = self.rng.choice(pool) if pool else f"+4670{self.rng.randrange(1000000, 9999999)}"
        call = _SimCall(call_id, traffic, caller, pending={})
        self.calls[call_id] = call
        self._seen.add(call_id)
        self.counts["arrived"] += 1
        if traffic.patience_mean_s:
            call.patience = self._later(self.rng.expovariate(1.0 / traffic.patience_mean_s), self._give_up, call_id)
        self.sink.call_arrived(call_id, caller, traffic.dialled, traffic.queue_id)
        return call_id

    def _give_up(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone or call.talking is not None:
            return
        self.counts["abandoned"] += 1
        self._drop(call)
        self.sink.caller_hung_up(call_id)

    def _drop(self, call: _SimCall) -> None:
        call.gone = True
        for handle in [call.patience, call.talking, *(call.pending or {}).values()]:
            if handle is not None:
                handle.cancel()
        self.calls.pop(call.call_id, None)

    # --- commands from the bridge -----------------------------------------------------------------
    async def offer(self, call_id: str, agent_id: str, extension: str, caller_display: str) -> None:
        call = self.calls.get(call_id)
        if call is None and call_id not in self._seen:
            # A callback (C13): no caller is on the line; the PBX dials the customer once the agent answers.
            shape = self.traffic[0] if self.traffic else SimTraffic("", "", 0.0)
            call = self.calls[call_id] = _SimCall(call_id, shape, "", pending={})
        self._seen.add(call_id)
        self.rung[agent_id] = extension
        if call is None or call.gone or agent_id not in self.bots:
            return  # a human's phone rings: the desk answers, or the engine's offer timeout passes
        call.pending[agent_id] = self._later(self.rng.uniform(*self.answer_delay_s), self._bot_answers,
                                             call_id, agent_id)

    def _bot_answers(self, call_id: str, agent_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone or call.talking is not None:
            return
        call.pending.pop(agent_id, None)
        self._connect(call)
        self.sink.offer_answered(call_id, agent_id)

    def _connect(self, call: _SimCall) -> None:
        if call.patience is not None:
            call.patience.cancel()
        self.counts["answered"] += 1
        call.talking = self._later(self.rng.expovariate(1.0 / call.traffic.handle_mean_s), self._talk_ends,
                                   call.call_id)

    def _talk_ends(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.gone:
            return
        self.counts["hung_up"] += 1
        self._drop(call)
        self.sink.call_hung_up(call_id)

    async def answer(self, call_id: str, agent_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None and not call.gone and call.talking is None:
            self._connect(call)

    async def withdraw(self, call_id: str, agent_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None and agent_id in (call.pending or {}):
            call.pending.pop(agent_id).cancel()

    async def redirect(self, call_id: str, number: str) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            self.counts["redirected"] += 1
            self._drop(call)

    async def hangup(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            self._drop(call)

    async def hold(self, call_id: str, on: bool) -> None:
        (self.held.add if on else self.held.discard)(call_id)

    async def perform(self, call_id: str, action: Action) -> Any:
        """Simulated callers listen to prompts, press keys, enter digits and sometimes take a callback."""
        rng = self.rng
        if isinstance(action, (Play, Announce, PlayValue)):
            await asyncio.sleep(rng.uniform(2.0, 5.0) * self.time_scale)
            return None
        if isinstance(action, Menu):
            await asyncio.sleep(rng.uniform(2.0, action.timeout_s) * self.time_scale)
            return rng.choice(action.keys) if action.keys and rng.random() < 0.9 else None
        if isinstance(action, Collect):
            await asyncio.sleep(rng.uniform(3.0, action.timeout_s) * self.time_scale)
            length = rng.randint(action.min_digits, action.max_digits)
            return "".join(rng.choice("0123456789") for _ in range(length))
        if isinstance(action, OfferCallback):
            await asyncio.sleep(3.0 * self.time_scale)
            return rng.random() < 0.3
        if isinstance(action, Voicemail):
            call = self.calls.get(call_id)
            if call is not None and call.patience is not None:
                call.patience.cancel()  # speaking, not waiting: this caller does not give up
            seconds = rng.uniform(min(10.0, action.max_s), action.max_s)
            await asyncio.sleep(seconds * self.time_scale)
            audio = await asyncio.to_thread(speech_wav, min(seconds, self.voice_cap_s), random.Random(rng.random()))
            if call is not None:
                self._drop(call)  # the caller hangs up after the message; the script step ends the call
            return Recording(audio, "audio/wav", round(min(seconds, self.voice_cap_s), 2))
        if isinstance(action, Survey):
            await asyncio.sleep(5.0 * self.time_scale)
            if rng.random() >= self.survey_rate:
                return None  # hung up instead of answering
            # Satisfied callers are the common case: the higher keys are the likelier ones.
            keys = range(1, action.scale + 1)
            return [rng.choices(keys, weights=keys)[0] for _ in action.questions or (action.prompt,)]
        return None

    async def dial(self, agent_id: str, extension: str, number: str) -> str:
        call_id = f"sim-out-{next(self.ids)}"
        return call_id

    def health(self) -> dict[str, Any]:
        return {"live_calls": len(self.calls), **self.counts}
