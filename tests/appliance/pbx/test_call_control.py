"""Mute, consultation, attended transfer and three-way through the bridge with the simulator: the engine,
the simulated PBX and the call's history agree, including a busy colleague and a number that rings out."""
from __future__ import annotations

import asyncio
import random

import pytest

from appliance.bus import Bus, EventKind
from appliance.domain.acd import AcdEngine, AcdError, Agent, AgentState, QueueConfig
from appliance.pbx.adapter import UnsupportedAction
from appliance.pbx.bridge import AcdBridge
from appliance.pbx.simulated import SimTraffic, SimulatedPbx

SCALE = 0.002
LINE = SimTraffic("support", "+4940111000", 0, handle_mean_s=1e9, patience_mean_s=None)  # talks until told


async def wait_until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


@pytest.fixture
async def talking():
    """Agent h1 (ext 201, a person at the desk) talks to a caller; h2 (ext 202) is ready; h3 is paused."""
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support", wrap_up_s=5.0))
    for i in (1, 2, 3):
        engine.add_agent(Agent(f"h{i}", extension=f"20{i}", name=f"Human {i}"))
    bus = Bus()
    records: list[dict] = []

    async def recorder(record: dict) -> None:
        records.append(record)

    pbx = SimulatedPbx([LINE], set(), random.Random(3), time_scale=SCALE, answer_delay_s=(1.0, 2.0))
    bridge = AcdBridge(engine, pbx, bus, recorder=recorder, time_scale=SCALE)
    sub = bus.subscribe(EventKind.CALL_PARTIES)
    task = asyncio.create_task(bridge.run())
    bridge.login("h1")
    call_id = pbx.arrive(LINE, caller="0701234567")
    await wait_until(lambda: engine.agent("h1").state is AgentState.RESERVED)
    await bridge.answer(call_id, "h1")
    bridge.login("h2")
    bridge.login("h3", pause_reason="lunch")
    yield engine, bridge, pbx, call_id, records, sub
    task.cancel()


async def test_consult_a_colleague_then_complete_the_transfer(talking) -> None:
    engine, bridge, pbx, call_id, records, sub = talking
    view = await bridge.consult(call_id, "h1", "202")
    assert view["consult"]["state"] == "ringing" and engine.agent("h2").state is AgentState.BUSY
    assert [p["role"] for p in view["parties"]] == ["customer", "agent", "consulted"]
    assert view["parties"][0]["state"] == "held"
    await wait_until(lambda: engine.call(call_id).consult.state.value == "talking")
    await bridge.consult_complete(call_id)
    assert engine.call(call_id).agent_id == "h2" and engine.agent("h1").state is AgentState.WRAP_UP
    assert call_id in pbx.calls  # the caller talks on, to h2 now
    pbx._talk_ends(call_id)
    await wait_until(lambda: records)
    kinds = [p["kind"] for p in records[0]["parties"]]
    assert kinds == ["consult", "answered", "transfer"]
    assert records[0]["parties"][2]["to"] == "202" and records[0]["parties"][2]["by"] == "h1"
    seen = set()
    while not sub.queue.empty():
        seen.add((await sub.get()).data["agent_id"])
    assert seen == {"h1", "h2"}  # both desks followed the call


async def test_busy_and_unanswered_targets_bring_the_agent_back(talking) -> None:
    engine, bridge, pbx, call_id, records, sub = talking
    pbx.busy_targets.add("+4930555")
    pbx.unanswered_targets.add("+4930666")
    await bridge.consult(call_id, "h1", "+4930555")
    await wait_until(lambda: engine.call(call_id).consult is None)
    await bridge.consult(call_id, "h1", "+4930666")
    await wait_until(lambda: engine.call(call_id).consult is None, 20)
    meta = bridge.meta[call_id]
    assert [p["kind"] for p in meta.parties] == ["consult", "busy", "consult", "no_answer"]
    assert engine.call(call_id).agent_id == "h1" and engine.agent("h1").state is AgentState.BUSY


async def test_a_busy_colleague_is_refused_and_a_paused_one_returns_to_the_pause(talking) -> None:
    engine, bridge, pbx, call_id, records, sub = talking
    other = pbx.arrive(LINE, caller="0709")
    await wait_until(lambda: engine.agent("h2").state is AgentState.RESERVED)
    with pytest.raises(AcdError):
        await bridge.consult(call_id, "h1", "202")
    await bridge.consult(call_id, "h1", "203")
    await bridge.consult_cancel(call_id)
    assert engine.agent("h3").state is AgentState.PAUSED and engine.agent("h3").pause_reason == "lunch"
    assert other in pbx.calls


async def test_three_way_and_the_agent_leaves_the_outside_party_with_the_customer(talking) -> None:
    engine, bridge, pbx, call_id, records, sub = talking
    await bridge.mute(call_id, "h1", True)
    assert (call_id, "h1") in pbx.muted and bridge.call_view(call_id)["muted"] == ["h1"]
    await bridge.mute(call_id, "h1", False)
    await bridge.consult(call_id, "h1", "+4930777")
    await wait_until(lambda: engine.call(call_id).consult.state.value == "talking")
    await bridge.conference(call_id)
    view = bridge.call_view(call_id)
    assert view["consult"]["state"] == "conference" and view["parties"][0]["state"] == "connected"
    with pytest.raises(AcdError):
        await bridge.leave(call_id, "h2")  # not on this call
    await bridge.leave(call_id, "h1")
    await wait_until(lambda: records)
    assert records[0]["outcome"] == "transferred" and call_id not in pbx.calls
    assert [p["kind"] for p in records[0]["parties"]] == ["consult", "answered", "conference", "left"]


async def test_an_adapter_without_consultation_undoes_the_engine(talking) -> None:
    engine, bridge, pbx, call_id, records, sub = talking

    async def cannot(*args):
        raise UnsupportedAction("this PBX cannot consult")

    pbx.consult = cannot
    with pytest.raises(UnsupportedAction):
        await bridge.consult(call_id, "h1", "202")
    assert engine.call(call_id).consult is None and engine.agent("h2").state is AgentState.READY
