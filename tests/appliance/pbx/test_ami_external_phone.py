"""External phone mode with Asterisk against the fake AMI server: an agent logged in with an outside number is
offered calls by redirecting the caller to `acd-dial-out,<number>,1` (digits, + as 00), which dials it through
the trunk; the trunk channel's DialEnd (its Exten is the dialled number, app_dial.c) says who answered, and its
Hangup ends the call."""
from __future__ import annotations


from hardware.ami.codec import make_packet
from hardware.ami.fake_server import FakeAmiServer

from appliance.domain.acd import AcdEngine, Agent, AgentState, QueueConfig
from tests.appliance.pbx.ami_rig import redirects, start_bridge
from tests.appliance.pbx.test_ami_adapter import CALLER, channel, hangup, var_set, wait_until

MOBILE = ("PJSIP/trunk-00000003", "1717430400.3", "1717430400.1", "0612345678", "00491701234567")


def dial_end(status: str):
    return make_packet([("Event", "DialEnd"), ("Privilege", "call,all"), *channel(*CALLER),
                        *channel(*MOBILE, prefix="Dest"), ("DialStatus", status)])


async def start(server: FakeAmiServer):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support", offer_timeout_s=30))
    engine.add_agent(Agent("u7", extension="201"))
    pbx, bridge, records, task = await start_bridge(server, engine, phone="+491701234567")
    return engine, pbx, bridge, records, task


async def test_the_agents_mobile_is_dialled_answers_and_hangs_up() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, records, task = await start(server)
        await server.play([var_set("support")])
        await wait_until(lambda: redirects(server))
        assert redirects(server) == [("PJSIP/trunk-00000001", "acd-dial-out", "00491701234567")]
        await server.play([dial_end("ANSWER")])
        await wait_until(lambda: engine.agent("u7").state is AgentState.BUSY)
        await server.play([hangup(MOBILE)])
        await wait_until(lambda: records)
        await server.play([hangup(CALLER)])
        task.cancel()
    assert records[0]["outcome"] == "answered" and records[0]["agent_id"] == "u7"


async def test_a_mobile_that_does_not_answer_puts_the_call_back() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, records, task = await start(server)
        await server.play([var_set("support")])
        await wait_until(lambda: redirects(server))
        await server.play([dial_end("NOANSWER")])
        await wait_until(lambda: engine.agent("u7").state is AgentState.PAUSED)  # the no-answer pause
        bridge.logout("u7")
        bridge.login("u7")
        await wait_until(lambda: len(redirects(server)) >= 2)
        task.cancel()
    assert redirects(server)[-1] == ("PJSIP/trunk-00000001", "acd-dial", "201"), "back on the extension"
