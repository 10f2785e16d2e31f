"""External phone mode in the bridge: besides offers, a desk dial starts from the agent's outside number, and a
colleague in that mode is consulted on their outside number (as an outside party for the PBX)."""
from __future__ import annotations

import asyncio

from appliance.bus import Bus
from appliance.domain.acd import AcdEngine, Agent, AgentState, QueueConfig
from appliance.pbx.adapter import PbxAdapter
from appliance.pbx.bridge import AcdBridge

MOBILE = "+491701234567"


class RecordingPbx(PbxAdapter):
    """Writes down what the bridge asks for."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple] = []

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def offer(self, call_id, agent_id, extension, caller_display) -> None:
        self.asked.append(("offer", agent_id, extension))

    async def withdraw(self, call_id, agent_id) -> None: ...

    async def redirect(self, call_id, number) -> None: ...

    async def hangup(self, call_id) -> None: ...

    async def dial(self, agent_id, extension, number) -> str:
        self.asked.append(("dial", agent_id, extension, number))
        return "out-1"

    async def consult(self, call_id, agent_id, target, external) -> None:
        self.asked.append(("consult", agent_id, target, external))


def bridge_with_two_agents() -> tuple[AcdBridge, RecordingPbx]:
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support"))
    engine.add_agent(Agent("u7", extension="201"))
    engine.add_agent(Agent("u8", extension="202"))
    pbx = RecordingPbx()
    return AcdBridge(engine, pbx, Bus()), pbx


async def test_a_desk_dial_starts_from_the_outside_number() -> None:
    bridge, pbx = bridge_with_two_agents()
    bridge.login("u7", "outbound", phone=MOBILE)
    await bridge.dial("u7", "+4940999000")
    bridge.logout("u7")
    bridge.login("u7", "outbound")
    await bridge.dial("u7", "+4940999000")
    assert pbx.asked == [("dial", "u7", MOBILE, "+4940999000"), ("dial", "u7", "201", "+4940999000")]


async def test_a_colleague_in_phone_mode_is_consulted_on_the_outside_number() -> None:
    bridge, pbx = bridge_with_two_agents()
    bridge.login("u7")
    task = asyncio.create_task(bridge.run())
    bridge.call_arrived("c1", "0612345678", "0201234567", "support")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while ("offer", "u7", "201") not in pbx.asked:
        assert loop.time() < deadline, "u7 was not offered the call"
        await asyncio.sleep(0.01)
    bridge.offer_answered("c1", "u7")
    bridge.login("u8", phone=MOBILE)  # after the offer, so the call was u7's to take
    await bridge.consult("c1", "u7", "202")
    task.cancel()
    assert [a for a in pbx.asked if a[0] == "consult"] == [("consult", "u7", MOBILE, True)]
    assert bridge.engine.agent("u8").state is AgentState.BUSY, "the colleague is busy in the ACD all the same"
