"""IVR verification mid-call and back with Asterisk against the fake AMI server: one Redirect with ExtraChannel
takes the caller to acd-verify and the agent to acd-hold; ACD_VERIFY arrives as a VarSet (reactions/verify_*.ami);
a Bridge action puts the caller back with the same agent, and the desk gets the result as a call.parties event.
A caller who hangs up in the IVR takes the waiting agent's channel with them; an agent who gives up waiting
ends the call and the caller is hung up."""
from __future__ import annotations

import asyncio
from pathlib import Path

from hardware.ami.fake_server import FakeAmiServer, split_packets

from appliance.bus import Bus, EventKind
from appliance.domain.acd import AcdEngine, Agent, AgentState, QueueConfig
from tests.appliance.pbx.ami_rig import start_bridge
from tests.appliance.pbx.test_ami_adapter import AGENT, CALLER, dial_end, hangup, var_set, wait_until

REACTIONS = Path(__file__).resolve().parents[2] / "data" / "ami" / "reactions"
CALL = "1717430400.1"


async def talking(server: FakeAmiServer):
    """u7 (201) has the caller; the tenant's customer 100234 is Olga."""
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support", offer_timeout_s=30, wrap_up_s=60))
    engine.add_agent(Agent("u7", extension="201"))
    async def identify(caller: str, digits: str, queue_id: str) -> dict:
        if digits == "100234" and not caller:
            return {"identity": "known", "id": 5, "name": "Olga Other", "number": "100234", "ambiguous": False}
        return {"identity": "unknown"}

    bus = Bus()
    pbx, bridge, records, task = await start_bridge(server, engine, bus, identify=identify)
    await server.play([var_set("support")])
    await wait_until(lambda: actions(server, "redirect"))
    await server.play([dial_end("ANSWER")])
    await wait_until(lambda: engine.agent("u7").state is AgentState.BUSY)
    return engine, pbx, bridge, bus, records, task


def actions(server: FakeAmiServer, name: str) -> list[dict[str, str]]:
    return [dict(p.items) for p in server.received if (p.action or "").lower() == name]


def verifying(server: FakeAmiServer) -> bool:
    return any(a.get("Context") == "acd-verify" for a in actions(server, "redirect"))


async def test_the_caller_enters_the_number_and_comes_back_to_the_same_agent() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, bus, records, task = await talking(server)
        events = bus.subscribe(EventKind.CALL_PARTIES)
        server.react("redirect", (REACTIONS / "verify_redirect.ami").read_bytes(),
                     when=lambda p: p.get("Context") == "acd-verify")
        server.react("bridge", (REACTIONS / "verify_bridge_back.ami").read_bytes())
        view = await bridge.verify(CALL, "u7", "customer_number")
        assert view["verification"]["state"] == "collecting"
        await wait_until(lambda: bridge.meta[CALL].verification["state"] != "collecting")
        published = []
        while len(published) < 2:
            published.append((await asyncio.wait_for(events.get(), 5)).data)
        await wait_until(lambda: actions(server, "bridge"))
        assert engine.agent("u7").state is AgentState.BUSY and engine.call(CALL).agent_id == "u7"
        await server.play([hangup(AGENT)])
        await wait_until(lambda: records)
        await server.play([hangup(CALLER)])  # the Bridge's after-goto: acd-verify,result,3 hangs up
        task.cancel()
    redirect = [a for a in actions(server, "redirect") if a.get("Context") == "acd-verify"][0]
    assert {k: redirect[k] for k in ("Channel", "Context", "Exten", "Priority", "ExtraChannel", "ExtraContext",
                                     "ExtraExten", "ExtraPriority")} == {
        "Channel": "PJSIP/trunk-00000001", "Context": "acd-verify", "Exten": "customer_number", "Priority": "1",
        "ExtraChannel": "PJSIP/201-00000002", "ExtraContext": "acd-hold", "ExtraExten": "s", "ExtraPriority": "1"}
    bridged = actions(server, "bridge")[0]
    assert (bridged["Channel1"], bridged["Channel2"]) == ("PJSIP/trunk-00000001", "PJSIP/201-00000002")
    assert [p["verification"]["state"] for p in published] == ["collecting", "verified"]
    assert published[1]["agent_id"] == "u7" and published[1]["verification"]["customer"]["name"] == "Olga Other"
    assert records[0]["outcome"] == "answered" and records[0]["customer"]["name"] == "Olga Other"
    assert [p["kind"] for p in records[0]["parties"]] == ["verify", "verified"]
    assert pbx.calls == {}


async def test_a_caller_who_hangs_up_in_the_ivr_takes_the_waiting_agents_channel_along() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, bus, records, task = await talking(server)
        # Asterisk's answer up to the Read() prompt: the caller is asked, the agent holds
        packets = split_packets((REACTIONS / "verify_redirect.ami").read_bytes())[:5]
        server.react("redirect", b"".join(p.encode() for p in packets),
                     when=lambda p: p.get("Context") == "acd-verify")
        await bridge.verify(CALL, "u7", "customer_number")
        await wait_until(lambda: verifying(server))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        await wait_until(lambda: actions(server, "hangup"))
        task.cancel()
    assert [a["Channel"] for a in actions(server, "hangup")] == ["PJSIP/201-00000002"]
    assert actions(server, "bridge") == [], "nobody to bridge back"
    assert records[0]["outcome"] == "answered" and [p["kind"] for p in records[0]["parties"]] == ["verify"]


async def test_an_agent_who_gives_up_waiting_ends_the_call_and_the_caller_is_hung_up() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, bus, records, task = await talking(server)
        packets = split_packets((REACTIONS / "verify_redirect.ami").read_bytes())[:5]
        server.react("redirect", b"".join(p.encode() for p in packets),
                     when=lambda p: p.get("Context") == "acd-verify")
        await bridge.verify(CALL, "u7", "customer_number")
        await wait_until(lambda: verifying(server))
        await server.play([hangup(AGENT)])
        await wait_until(lambda: engine.agent("u7").state is AgentState.WRAP_UP)
        await wait_until(lambda: actions(server, "hangup"))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert [a["Channel"] for a in actions(server, "hangup")] == ["PJSIP/trunk-00000001"]
    assert actions(server, "bridge") == [] and records[0]["outcome"] == "answered"
