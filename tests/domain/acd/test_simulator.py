"""The simulator drives the real engine; with M/M/c traffic its service level must agree with Erlang C."""
from __future__ import annotations

import random
import statistics

import pytest

from appliance.domain.acd import AcdEngine, AcdEventKind, Agent, QueueConfig
from appliance.domain.acd.erlang import service_level
from appliance.domain.acd.simulator import Exponential, Fixed, LogNormal, QueueLoad, Simulator

# M/M/c: 10 agents, 7 Erlangs (occupancy 0.7), handle time 1 time unit, target 0.1 time units
AGENTS, ERLANGS, TARGET = 10, 7.0, 0.1
WARM_UP_CALLS, RUN_CALLS, REPLICATIONS = 2_000, 25_000, 5


def mmc_replication(seed: int) -> float:
    """One independent run: measured service level after a warm-up, from the engine's own figures."""
    engine = AcdEngine()
    engine.add_queue(QueueConfig("q", sl_target_s=TARGET, offer_timeout_s=0))
    for i in range(AGENTS):
        engine.add_agent(Agent(f"a{i}", str(100 + i)))
        engine.agent_login(f"a{i}", 0.0)
    # time is measured in handle times; the rate is per hour in the load description
    sim = Simulator(engine, [QueueLoad("q", ERLANGS * 3600, Exponential(1.0))], random.Random(seed))
    sim.run_until(WARM_UP_CALLS / ERLANGS)
    engine.reset_stats()
    sim.run_until((WARM_UP_CALLS + RUN_CALLS) / ERLANGS)
    stats = engine.stats("q")
    assert stats.abandoned == 0 and stats.answered > 0.95 * RUN_CALLS
    return stats.service_level()


def test_mmc_service_level_agrees_with_erlang_c() -> None:
    # Statistical design: independent replications (fixed seeds) each past a warm-up from empty; the spread
    # between replications gives an honest standard error despite the autocorrelation inside one run.
    # We require that error to be small (< 1 pp, so the test has the power to see a 2 pp gap) and the mean
    # to lie within 2 pp of the analytic value.
    measured = [mmc_replication(seed) for seed in range(1, REPLICATIONS + 1)]
    mean = statistics.mean(measured)
    std_error = statistics.stdev(measured) / len(measured) ** 0.5
    analytic = service_level(AGENTS, ERLANGS, 1.0, TARGET)
    assert std_error < 0.01
    assert abs(mean - analytic) < 0.02, (measured, analytic)


def test_hourly_profile_sets_the_arrival_rate() -> None:
    engine = AcdEngine()
    engine.add_queue(QueueConfig("q"))
    profile = [0.0] * 24
    profile[9], profile[10] = 600.0, 1200.0
    sim = Simulator(engine, [QueueLoad("q", profile)], random.Random(7))
    queued: list[float] = []
    sim.on_events = lambda events: queued.extend(e.at for e in events if e.kind is AcdEventKind.CALL_QUEUED)
    sim.run_until(24 * 3600.0)
    in_nine = sum(9 * 3600 <= t < 10 * 3600 for t in queued)
    in_ten = sum(10 * 3600 <= t < 11 * 3600 for t in queued)
    assert len(queued) == in_nine + in_ten
    # Poisson counts: mean 600 and 1200, so ±5 standard deviations
    assert abs(in_nine - 600) < 5 * 600 ** 0.5 and abs(in_ten - 1200) < 5 * 1200 ** 0.5


def test_a_busy_day_with_patience_answer_delays_and_wrap_up_accounts_for_every_call() -> None:
    engine = AcdEngine()
    engine.add_queue(QueueConfig("sales", wrap_up_s=10.0, offer_timeout_s=15.0, no_answer_pause=None))
    for i in range(20):
        engine.add_agent(Agent(f"a{i}", str(200 + i)))
        engine.agent_login(f"a{i}", 8 * 3600.0)
    load = QueueLoad("sales", 450.0, LogNormal(150.0, 0.8), patience=Exponential(90.0), caller_pool=500)
    sim = Simulator(engine, [load], random.Random(3), answer_delay=LogNormal(6.0, 0.5), start=8 * 3600.0)
    sim.run_until(12 * 3600.0)
    counts, stats = sim.counts, engine.stats("sales")
    assert counts.arrived > 1500 and counts.abandoned > 0
    live = engine.live_calls()
    assert counts.arrived == counts.ended + counts.abandoned + len(live)
    assert stats.answered == counts.answered and stats.abandoned == counts.abandoned
    assert 0.0 < stats.service_level() < 1.0


def test_distributions_have_the_requested_means() -> None:
    rng = random.Random(11)
    for dist, mean in [(Exponential(30.0), 30.0), (LogNormal(30.0, 1.5), 30.0), (Fixed(4.0), 4.0)]:
        draws = [dist.sample(rng) for _ in range(40_000)]
        assert statistics.mean(draws) == pytest.approx(mean, rel=0.05)
