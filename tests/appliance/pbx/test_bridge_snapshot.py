"""The wallboard snapshot built a slice per loop pass says the same as the one built at once, and the bridge's
routing loop still sees a report that arrives while it builds one."""
from __future__ import annotations

import asyncio

from appliance.bus import EventKind
from appliance.pbx import bridge as bridge_module
from tests.appliance.pbx.test_bridge_simulated import build, wait_until


async def test_sliced_snapshot_equals_the_whole_one() -> None:
    engine, bridge, pbx, bus, records, bots = build(bridge_module.SNAPSHOT_SLICE * 2 + 7, [])
    for bot in bots[:-3]:
        bridge.login(bot)
    bridge.pause(bots[0], next(iter(engine.pause_reasons)))
    bridge.clock = lambda: 1000.0  # one instant for both, so every since_s matches
    whole, sliced = bridge.snapshot(), await bridge.snapshot_in_slices()
    assert sliced == whole
    assert len(sliced["agents"]) == len(bots) - 3 and [q["id"] for q in sliced["queues"]] == ["support", "sales"]


async def test_a_report_during_a_snapshot_is_not_lost_to_the_idle_wait() -> None:
    engine, bridge, pbx, bus, records, bots = build(bridge_module.SNAPSHOT_SLICE * 3, [])
    sub = bus.subscribe(EventKind.AGENT_STATE)
    task = asyncio.create_task(bridge.run())
    try:
        stats = bus.subscribe(EventKind.QUEUE_STATS)
        await asyncio.wait_for(stats.get(), 5)  # the first snapshot is out: the loop waits for work now
        original = bridge.snapshot_in_slices

        async def slow_snapshot():
            bridge.login(bots[0])  # a report lands while the snapshot is being built
            return await original()
        bridge.snapshot_in_slices = slow_snapshot
        saved = bridge_module.SNAPSHOT_INTERVAL_S, bridge_module.IDLE_WAKE_S
        # Every pass builds a snapshot, and an idle loop would sleep for an hour: only the wake can bring it back.
        bridge_module.SNAPSHOT_INTERVAL_S, bridge_module.IDLE_WAKE_S = 0.0, 3600.0
        try:
            bridge._wake.set()
            await asyncio.wait_for(stats.get(), 5)
            bridge.snapshot_in_slices = original
            event = await asyncio.wait_for(sub.get(), 30)
            assert event.data["agent_id"] == bots[0]
        finally:
            bridge_module.SNAPSHOT_INTERVAL_S, bridge_module.IDLE_WAKE_S = saved
    finally:
        task.cancel()
