"""The Asterisk adapter against a fake AMI server that speaks like Asterisk 18: a call joins the ACD by the
dialplan's ACD_QUEUE variable, is offered by Redirect, answered (DialEnd ANSWER), hung up, and recorded;
a dropped link with a call gone meanwhile is reconciled into the history."""
from __future__ import annotations


from hardware.ami.codec import make_packet
from hardware.ami.fake_server import FakeAmiServer

from appliance.domain.acd import AcdEngine, Agent, QueueConfig
from appliance.pbx.ami_adapter import parse_ami_url
from tests.appliance.pbx.ami_rig import redirects, start_bridge, wait_until


def channel(name: str, uniqueid: str, linkedid: str, caller: str, exten: str, prefix: str = "") -> list:
    """The channel snapshot fields in the order Asterisk 18's manager_channels.c writes them."""
    fields = [("Channel", name), ("ChannelState", "6"), ("ChannelStateDesc", "Up"), ("CallerIDNum", caller),
              ("CallerIDName", "<unknown>"), ("ConnectedLineNum", "<unknown>"), ("ConnectedLineName", "<unknown>"),
              ("Language", "en"), ("AccountCode", ""), ("Context", "from-trunk"), ("Exten", exten),
              ("Priority", "1"), ("Uniqueid", uniqueid), ("Linkedid", linkedid)]
    return [(prefix + k, v) for k, v in fields]


CALLER = ("PJSIP/trunk-00000001", "1717430400.1", "1717430400.1", "0612345678", "0201234567")
AGENT = ("PJSIP/201-00000002", "1717430400.2", "1717430400.1", "0612345678", "201")


def var_set(queue: str):
    return make_packet([("Event", "VarSet"), ("Privilege", "dialplan,all"), *channel(*CALLER),
                        ("Variable", "ACD_QUEUE"), ("Value", queue)])


def dial_end(status: str):
    return make_packet([("Event", "DialEnd"), ("Privilege", "call,all"), *channel(*CALLER),
                        *channel(*AGENT, prefix="Dest"), ("DialStatus", status)])


def hangup(ch):
    return make_packet([("Event", "Hangup"), ("Privilege", "call,all"), *channel(*ch), ("Cause", "16"),
                        ("Cause-txt", "Normal Clearing")])


async def setup(server: FakeAmiServer):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support", offer_timeout_s=30))
    engine.add_agent(Agent("u7", extension="201"))
    pbx, bridge, records, task = await start_bridge(server, engine)
    return engine, pbx, bridge, records, task


async def test_call_offered_answered_and_recorded() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, records, task = await setup(server)
        await server.play([var_set("support")], chunks="random")  # partial reads at any byte
        await wait_until(lambda: redirects(server))
        assert redirects(server) == [("PJSIP/trunk-00000001", "acd-dial", "201")]
        await server.play([dial_end("ANSWER")])
        await wait_until(lambda: engine.agent("u7").state.value == "busy")
        await server.play([hangup(AGENT), hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
        assert records[0]["outcome"] == "answered" and records[0]["agent_id"] == "u7"
        assert records[0]["caller"] == "0612345678" and records[0]["dialled"] == "0201234567"


async def test_no_answer_puts_the_call_back_and_caller_hangup_is_an_abandon() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, records, task = await setup(server)
        await server.play([var_set("support")])
        await wait_until(lambda: redirects(server))
        await server.play([dial_end("NOANSWER")])
        await wait_until(lambda: engine.agent("u7").state.value == "paused")  # no_answer pause
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
        assert records[0]["outcome"] == "abandoned" and records[0]["loss"] == "abandoned_in_queue"


async def test_a_call_that_ended_while_the_link_was_down_is_closed_after_reconnect() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, bridge, records, task = await setup(server)
        pbx.client.backoff_min = 0.05
        await server.play([var_set("support")])
        await wait_until(lambda: redirects(server))
        await server.play([dial_end("ANSWER")])
        await wait_until(lambda: engine.agent("u7").state.value == "busy")
        server.drop()
        server.apply_silently([hangup(AGENT), hangup(CALLER)])  # happens while we are not listening
        await server.wait_for_login(2, timeout=10)
        await wait_until(lambda: records, 10)
        task.cancel()
        assert records[0]["outcome"] == "answered" and pbx.counts["vanished"] == 1


def test_ami_url_is_checked() -> None:
    assert parse_ami_url("tcp://acd:pw@pbx.local:5038") == ("pbx.local", 5038, "acd", "pw")
    for bad in ("pbx.local:5038", "http://acd@pbx", "tcp://pbx.local"):
        try:
            parse_ami_url(bad)
        except ValueError as exc:
            assert "tcp://user:secret@host:5038" in str(exc)
        else:
            raise AssertionError(bad)
