"""A queue script's prompts with Asterisk against the fake AMI server: the caller's language becomes the
channel's (Setvar CHANNEL(language)), the caller is redirected to acd-play,<prompt> and the script goes on when
ACD_PLAYED arrives (a VarSet shaped like Asterisk 18's); a hot prompt plays only for the languages it is on for;
a caller who hangs up during a prompt is lost in the IVR."""
from __future__ import annotations

import asyncio

from hardware.ami.codec import make_packet
from hardware.ami.fake_server import FakeAmiServer

from appliance.domain.acd import AcdEngine, Agent, QueueConfig
from appliance.domain.queue_script import parse
from appliance.pbx.bridge import AcdBridge
from tests.appliance.pbx.ami_rig import sent, start_bridge
from tests.appliance.pbx.test_ami_adapter import CALLER, channel, hangup, var_set, wait_until

SCRIPT = "set language=de\nhotprompt outage_notice\nhotprompt storm_warning\nplay welcome\nqueue\n"


def played(prompt: str):
    """`Set(ACD_PLAYED=${EXTEN})` after Playback() in acd-play (main/stasis_channels.c VarSet)."""
    return make_packet([("Event", "VarSet"), ("Privilege", "dialplan,all"), *channel(*CALLER),
                        ("Variable", "ACD_PLAYED"), ("Value", prompt)])


async def start(server: FakeAmiServer):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support"))
    engine.add_agent(Agent("u7", extension="201", languages=frozenset({"de"})))  # the script's caller speaks it
    def before_run(bridge: AcdBridge) -> None:
        bridge.queue_tenants["support"] = 1
        bridge.hot_prompts.update({(1, "outage_notice", "de"), (1, "storm_warning", "en")})

    _pbx, _bridge, records, task = await start_bridge(server, engine, before_run=before_run,
                                                      scripts={"support": parse(SCRIPT)})
    return engine, records, task


async def test_prompts_play_in_the_callers_language_one_after_the_other() -> None:
    async with FakeAmiServer() as server:
        engine, records, task = await start(server)
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-play", "outage_notice") in sent(server))
        await asyncio.sleep(0.1)
        assert ("redirect", "acd-play", "welcome") not in sent(server), "the next prompt waits for the end"
        await server.play([played("outage_notice")])
        await wait_until(lambda: ("redirect", "acd-play", "welcome") in sent(server))
        await server.play([played("welcome")])
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        task.cancel()
    assert sent(server) == [("setvar", "CHANNEL(language)", "de"), ("redirect", "acd-play", "outage_notice"),
                            ("setvar", "CHANNEL(language)", "de"), ("redirect", "acd-play", "welcome"),
                            ("redirect", "acd-dial", "201")], "storm_warning is on for English callers only"


async def test_a_caller_who_hangs_up_during_a_prompt_is_lost_in_the_ivr() -> None:
    async with FakeAmiServer() as server:
        engine, records, task = await start(server)
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-play", "outage_notice") in sent(server))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert records[0]["outcome"] == "abandoned" and records[0]["loss"] == "abandoned_in_ivr"
    assert "hot prompt outage_notice (language de)" in records[0]["notes"]
