"""The live hub's fan-out: every socket gets each event once, the JSON is made once for all of them, and hundreds
of sockets are woken a slice per pass of the event loop (the loop stays free for timers and other sockets)."""
from __future__ import annotations

import asyncio
import json

from appliance.bus import Bus, Event, EventKind
from appliance.webui.routes_live import FAN_OUT_SLICE, LiveHub


async def test_a_snapshot_reaches_every_socket_a_slice_per_loop_pass() -> None:
    bus = Bus()
    hub = LiveHub(bus)
    sockets = [hub.join(f"u{i}", lead=False, desk=False) for i in range(FAN_OUT_SLICE * 3 + 5)]
    await asyncio.sleep(0)  # the hub subscribes
    bus.publish(Event(EventKind.QUEUE_STATS, {"queues": [], "agents": []}))
    filled = []
    for _ in range(20):
        await asyncio.sleep(0)
        filled.append(sum(1 for q in sockets if not q.empty()))
    assert filled[-1] == len(sockets)
    # Never more than one slice more per pass: the others wait for the next pass.
    steps = [b - a for a, b in zip([0] + filled, filled)]
    assert max(steps) == FAN_OUT_SLICE and len([s for s in steps if s]) == 4
    items = [q.get_nowait() for q in sockets]
    assert all(q.empty() for q in sockets) and len({id(item) for item in items}) == 1
    hub.leave("u0", sockets[0])
    for i, q in enumerate(sockets[1:], 1):
        hub.leave(f"u{i}", q)


async def test_agent_events_go_to_that_agent_only_and_are_encoded_once() -> None:
    bus = Bus()
    hub = LiveHub(bus)
    tab1, tab2 = hub.join("u1", lead=False, desk=True), hub.join("u1", lead=False, desk=True)
    other = hub.join("u2", lead=False, desk=True)
    await asyncio.sleep(0)
    bus.publish(Event(EventKind.AGENT_STATE, {"agent_id": "u1", "state": "ready"}))
    for _ in range(3):
        await asyncio.sleep(0)
    first, second = tab1.get_nowait(), tab2.get_nowait()
    assert other.empty() and first is second
    assert first.text() is second.text()  # one JSON text for both tabs
    assert json.loads(first.text()) == {"type": "agent.state", "data": {"agent_id": "u1", "state": "ready"}}
    for agent, q in (("u1", tab1), ("u1", tab2), ("u2", other)):
        hub.leave(agent, q)
    assert hub.task is None
