"""ACD figures: routing speed at site scale, simulated vs analytic service level, a simulated day."""
from __future__ import annotations

import random
import statistics
import time
from typing import Iterable

from appliance.domain.acd import AcdEngine, Agent, Call, QueueConfig
from appliance.domain.acd.erlang import service_level
from appliance.domain.acd.simulator import Exponential, LogNormal, QueueLoad, Simulator
from bench.figure import figure

AGENTS, WAITING, SKILLS = 1_000, 10_000, 50
SKILLS_PER_AGENT = 5
DECISIONS = 20_000
ROUND = 5_000


def _site(rng: random.Random) -> AcdEngine:
    """1,000 agents with 5 of 50 skills each (levels 1..10), one queue per skill with a minimum level."""
    engine = AcdEngine()
    for s in range(SKILLS):
        engine.add_queue(QueueConfig(f"q{s}", skills={f"s{s}": rng.randint(1, 3)}, offer_timeout_s=0,
                                     rank=rng.randint(0, 1)))
    for i in range(AGENTS):
        skills = {f"s{s}": rng.randint(3, 10) for s in rng.sample(range(SKILLS), SKILLS_PER_AGENT)}
        engine.add_agent(Agent(f"a{i}", f"{1000 + i}", skills=skills))
    return engine


def _route_figures() -> list[dict]:
    """Steady call surplus: every agent busy, 10,000 calls waiting; each hang-up frees an agent, a new call
    arrives, and route() decides who takes what. Times only route() (with its events and explanations)."""
    rng = random.Random(5)
    engine = _site(rng)
    now = 0.0
    ids = iter(range(10**9))

    def arrive(at: float) -> None:
        engine.enqueue(Call(f"c{next(ids)}", priority=rng.choice((0, 0, 0, 1))), f"q{rng.randrange(SKILLS)}", at)

    for i in range(AGENTS):
        engine.agent_login(f"a{i}", now)
    for _ in range(WAITING + AGENTS):
        arrive(now)
    for d in engine.route(now):
        engine.call_answered(d.call_id, d.agent_ids[0], now)
    busy = [a.call_id for a in engine.agents() if a.call_id]
    samples: list[float] = []
    rounds: list[tuple[int, float]] = []
    decisions, total = 0, 0.0
    clock = time.perf_counter
    for step in range(DECISIONS):
        if step and step % ROUND == 0:
            rounds.append((decisions, total))
            decisions, total = 0, 0.0
        now += 0.01
        slot = rng.randrange(len(busy))
        busy[slot], busy[-1] = busy[-1], busy[slot]
        engine.call_ended(busy.pop(), now)
        arrive(now)
        t0 = clock()
        out = engine.route(now)
        elapsed = clock() - t0
        total += elapsed
        # an agent whose queues happen to be empty stays free: a route call without a decision
        if out:
            samples.append(elapsed / len(out))
        decisions += len(out)
        for d in out:
            engine.call_answered(d.call_id, d.agent_ids[0], now)
            busy.append(d.call_id)
        engine.drain_events()
    rounds.append((decisions, total))
    assert sum(len(engine.waiting_calls(f"q{s}")) for s in range(SKILLS)) >= WAITING - 100
    samples.sort()
    p99 = samples[int(len(samples) * 0.99)]
    # the machine is shared: like timeit, the best round is the figure; the worst is kept beside it
    rates = [n / t for n, t in rounds]
    return [figure("acd.route_decisions_per_s", max(rates), "1/s", worst_round=round(min(rates)),
                   rounds=len(rates), agents=AGENTS, waiting_calls=WAITING, skills=SKILLS),
            figure("acd.route_p99_us", p99 * 1e6, "us"),
            figure("acd.route_median_us", statistics.median(samples) * 1e6, "us")]


def _erlang_figure() -> dict:
    """M/M/c (10 agents, 7 Erlangs, target 0.1 handle times), 3 replications of 25,000 calls after warm-up."""
    agents, erlangs, target = 10, 7.0, 0.1
    measured = []
    for seed in (1, 2, 3):
        engine = AcdEngine()
        engine.add_queue(QueueConfig("q", sl_target_s=target, offer_timeout_s=0))
        for i in range(agents):
            engine.add_agent(Agent(f"a{i}", str(100 + i)))
            engine.agent_login(f"a{i}", 0.0)
        sim = Simulator(engine, [QueueLoad("q", erlangs * 3600, Exponential(1.0))], random.Random(seed))
        sim.run_until(2000 / erlangs)
        engine.reset_stats()
        sim.run_until(27_000 / erlangs)
        measured.append(engine.stats("q").service_level())
    analytic = service_level(agents, erlangs, 1.0, target)
    return figure("acd.erlang_c_sl_error_pct", abs(statistics.mean(measured) - analytic) * 100, "pp",
                  analytic_pct=round(analytic * 100, 2), simulated_pct=round(statistics.mean(measured) * 100, 2))


def _day_figure() -> dict:
    """An 8-hour day, 100 agents, 4 queues by skill, lognormal handle times, patience, answer delays."""
    rng = random.Random(9)
    engine = AcdEngine()
    for s in range(4):
        engine.add_queue(QueueConfig(f"q{s}", skills={f"s{s}": 1}, wrap_up_s=15.0, offer_timeout_s=20.0))
    start = 8 * 3600.0
    for i in range(100):
        skills = {f"s{s}": rng.randint(1, 10) for s in rng.sample(range(4), 2)}
        engine.add_agent(Agent(f"a{i}", str(100 + i), skills=skills))
        engine.agent_login(f"a{i}", start)
    profile = [0.0] * 24
    for hour, rate in zip(range(8, 16), (300, 420, 480, 420, 300, 420, 450, 330)):
        profile[hour] = rate
    loads = [QueueLoad(f"q{s}", profile, LogNormal(180.0, 0.9), patience=Exponential(120.0), caller_pool=5000)
             for s in range(4)]
    sim = Simulator(engine, loads, rng, answer_delay=LogNormal(5.0, 0.5), start=start)
    t0 = time.perf_counter()
    sim.run_until(start + 8 * 3600.0)
    elapsed = time.perf_counter() - t0
    return figure("acd.sim_day_s", elapsed, "s", calls=sim.counts.arrived, answered=sim.counts.answered,
                  abandoned=sim.counts.abandoned)


def figures() -> Iterable[dict]:
    """The ACD figures."""
    yield from _route_figures()
    yield _erlang_figure()
    yield _day_figure()
