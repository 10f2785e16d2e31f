"""The PBX bridge with the built-in simulator: callers flow through scripts and queues to agents, every call
ends in exactly one history record, and a human agent works offers from the desk API."""
from __future__ import annotations

import asyncio
import random

import pytest

from appliance.bus import Bus, EventKind
from appliance.domain.acd import AcdEngine, Agent, QueueConfig
from appliance.domain.queue_script import parse
from appliance.pbx.bridge import AcdBridge
from appliance.pbx.simulated import SimTraffic, SimulatedPbx

SCALE = 0.002  # one simulated second takes 2 ms


def build(bots: int, traffic: list[SimTraffic], scripts: dict | None = None, seed: int = 7):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support", name="Support", sl_target_s=20))
    engine.add_queue(QueueConfig("sales", name="Sales"))
    names = [f"bot{i}" for i in range(bots)]
    for i, name in enumerate(names):
        engine.add_agent(Agent(name, extension=str(200 + i), skills={}, languages=frozenset({"sv", "en"})))
    bus = Bus()
    records: list[dict] = []

    async def recorder(record: dict) -> None:
        records.append(record)

    pbx = SimulatedPbx(traffic, set(names), random.Random(seed), time_scale=SCALE, hour_of_day=lambda: 10)
    bridge = AcdBridge(engine, pbx, bus, scripts=scripts or {}, recorder=recorder, time_scale=SCALE)
    return engine, bridge, pbx, bus, records, names


async def wait_until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_every_arrival_ends_in_exactly_one_record() -> None:
    traffic = [SimTraffic("support", "+4684490150", calls_per_hour=3600, handle_mean_s=20, patience_mean_s=30)]
    engine, bridge, pbx, bus, records, bots = build(3, traffic)
    for bot in bots:
        bridge.login(bot)
    task = asyncio.create_task(bridge.run())
    await wait_until(lambda: pbx.counts["arrived"] >= 60)
    pbx.arrivals_on = False
    arrived = pbx.counts["arrived"]
    await wait_until(lambda: len(records) == arrived and not pbx.calls, 20)
    task.cancel()
    ids = [r["call_id"] for r in records]
    assert len(ids) == len(set(ids)), "a call was recorded twice"
    outcomes = {r["outcome"] for r in records}
    assert outcomes <= {"answered", "abandoned"}
    answered = [r for r in records if r["outcome"] == "answered"]
    assert answered and all(r["agent_id"] in bots for r in answered)
    assert all(r["loss"] in ("abandoned_in_queue", "abandoned_ringing") for r in records
               if r["outcome"] == "abandoned")
    stats = engine.stats("support")
    assert stats.answered == len(answered)


async def test_script_menu_digits_and_closed_branch() -> None:
    script = parse("""
when closed:
    hangup
menu lang timeout=3:
    1:
        set language=sv
    2:
        set language=en
collect customer_number prompt=enter digits=6
queue
""")
    traffic = [SimTraffic("support", "100", calls_per_hour=0, patience_mean_s=None, handle_mean_s=10)]
    engine, bridge, pbx, bus, records, bots = build(1, traffic, {"support": script})
    bridge.login(bots[0])
    offered = bus.subscribe(EventKind.CALL_OFFERED)
    task = asyncio.create_task(bridge.run())
    pbx.arrive(traffic[0], caller="+46701234567")
    event = await asyncio.wait_for(offered.get(), 5)
    assert event.data["agent_id"] == bots[0]
    assert len(event.data["digits"]) == 6 and event.data["caller"] == "+46701234567"
    await wait_until(lambda: records, 5)
    task.cancel()
    assert records[0]["outcome"] == "answered" and len(records[0]["digits"]) == 6
    assert records[0]["decision"]["rule"] in ("longest_idle", "first_in_line")


async def test_human_agent_answers_and_hangs_up_from_the_desk() -> None:
    traffic = [SimTraffic("support", "100", calls_per_hour=0, patience_mean_s=None, handle_mean_s=10_000)]
    engine, bridge, pbx, bus, records, _ = build(0, traffic)
    engine.add_agent(Agent("alice", extension="301"))
    bridge.login("alice")
    offered = bus.subscribe(EventKind.CALL_OFFERED)
    task = asyncio.create_task(bridge.run())
    call_id = pbx.arrive(traffic[0], caller="+4681234567")
    event = await asyncio.wait_for(offered.get(), 5)
    assert event.data["call_id"] == call_id and event.data["agent_id"] == "alice"
    await bridge.answer(call_id, "alice")
    assert engine.agent("alice").state.value == "busy"
    await bridge.hangup(call_id)
    await wait_until(lambda: records, 5)
    task.cancel()
    assert records[0]["outcome"] == "answered" and records[0]["agent_id"] == "alice"
    assert engine.agent("alice").state.value in ("wrap_up", "ready")


async def test_no_matching_queue_is_hung_up_not_lost() -> None:
    traffic = [SimTraffic("nowhere", "999", calls_per_hour=0)]
    engine, bridge, pbx, bus, records, _ = build(0, traffic)
    task = asyncio.create_task(bridge.run())
    call_id = pbx.arrive(traffic[0])
    await asyncio.sleep(0.05)
    task.cancel()
    assert call_id not in pbx.calls


async def test_snapshot_has_queues_agents_and_kpis() -> None:
    traffic = [SimTraffic("support", "100", calls_per_hour=0, patience_mean_s=None)]
    engine, bridge, pbx, bus, records, bots = build(2, traffic)
    bridge.login(bots[0])
    bridge.login(bots[1], pause_reason="lunch")
    snap = bridge.snapshot()
    support = next(q for q in snap["queues"] if q["id"] == "support")
    assert {"waiting", "today", "last_15_min", "agents_logged_in", "sl_target_s"} <= set(support)
    assert {a["id"] for a in snap["agents"]} == set(bots)
    assert {a["state"] for a in snap["agents"]} == {"ready", "paused"}
    assert next(a for a in snap["agents"] if a["state"] == "paused")["reason"] == "lunch"
