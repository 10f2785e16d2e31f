"""A queue script's digit entry, menus and announcements with Asterisk against the fake AMI server: the caller is
redirected to acd-read (Read() with the step's prompt, length, timeout and terminator as channel variables) or
acd-announce (ACD_POSITION, ACD_WAIT_MIN), and the script goes on when ACD_DIGITS / ACD_ANNOUNCED arrive as
VarSet events shaped like Asterisk 18's (main/stasis_channels.c)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from hardware.ami.codec import make_packet
from hardware.ami.fake_server import FakeAmiServer

from appliance.domain.acd import AcdEngine, AcdError, Agent, Call, QueueConfig
from appliance.domain.acd.views import position
from appliance.domain.queue_script import Announce, parse
from tests.appliance.pbx.ami_rig import sent, start_bridge
from tests.appliance.pbx.test_ami_adapter import CALLER, channel, hangup, var_set, wait_until

TRANSCRIPTS = Path(__file__).parents[2] / "data" / "ami"

COLLECT = """collect customer_number prompt=enter_customer_number digits=4..10 timeout=8
when customer_number == "123456":
    set skill=vip
queue
"""
MENU = """menu choose_department timeout=5 retries=1:
    1:
        set skill=billing
    #:
        set skill=tech
    invalid:
        hangup
queue
"""
ANNOUNCE = "queue\nwhile waiting every=1:\n    announce position ewt\n"


def packet(variable: str, value: str):
    """`Set(<variable>=<value>)` in the dialplan, as the VarSet Asterisk 18 sends for it."""
    return make_packet([("Event", "VarSet"), ("Privilege", "dialplan,all"), *channel(*CALLER),
                        ("Variable", variable), ("Value", value)])


def transcript(name: str) -> bytes:
    return (TRANSCRIPTS / name).read_bytes()


async def start(server: FakeAmiServer, script: str, agent: bool = True):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support"))
    engine.add_agent(Agent("u7", extension="201", skills={"vip": 1, "billing": 1, "tech": 1}))
    _pbx, bridge, records, task = await start_bridge(
        server, engine, login=agent, before_run=lambda b: b.queue_tenants.update(support=1),
        scripts={"support": parse(script)})
    return engine, bridge, records, task


READ_COLLECT = [("setvar", "ACD_READ_PROMPT", "enter_customer_number"), ("setvar", "ACD_READ_MAX", "10"),
                ("setvar", "ACD_READ_TIMEOUT", "8"), ("setvar", "ACD_READ_TERM", "#"), ("redirect", "acd-read", "s")]


async def test_collected_digits_feed_the_call_like_the_simulators() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, COLLECT)
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-read", "s") in sent(server))
        assert sent(server) == READ_COLLECT
        await asyncio.sleep(0.1)
        assert ("redirect", "acd-dial", "201") not in sent(server), "the script waits for the digits"
        await server.play(transcript("read_customer_number.ami"))
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        call = engine.call(CALLER[2])
        assert call.entered_digits == "123456" and call.required_skill == "vip", "digits and conditions"
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert records[0]["digits"] == "123456"


async def test_no_digits_entered_leaves_the_variable_empty() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, COLLECT)
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-read", "s") in sent(server))
        await server.play([packet("ACD_DIGITS", "")])  # Read() timed out: DIGITS empty
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        call = engine.call(CALLER[2])
        assert call.entered_digits == "" and call.required_skill is None
        task.cancel()


async def test_a_caller_who_hangs_up_while_entering_digits_is_lost_in_the_ivr() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, COLLECT)
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-read", "s") in sent(server))
        await server.play(transcript("read_caller_hangs_up.ami"))
        await wait_until(lambda: records)
        task.cancel()
    assert records[0]["outcome"] == "abandoned" and records[0]["loss"] == "abandoned_in_ivr"
    assert ("redirect", "acd-dial", "201") not in sent(server)


def reads(server: FakeAmiServer) -> int:
    return sent(server).count(("redirect", "acd-read", "s"))


async def test_a_menu_reads_one_key_and_hash_is_a_choice() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, MENU)
        await server.play([var_set("support")])
        await wait_until(lambda: reads(server) == 1)
        assert sent(server) == [("setvar", "ACD_READ_PROMPT", "choose_department"), ("setvar", "ACD_READ_MAX", "1"),
                                ("setvar", "ACD_READ_TIMEOUT", "5"), ("setvar", "ACD_READ_TERM", ""),
                                ("redirect", "acd-read", "s")]
        await server.play([packet("ACD_DIGITS", "#")])
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        call = engine.call(CALLER[2])
        assert call.required_skill == "tech" and call.entered_digits == "", "a menu key is no entered number"
        task.cancel()


async def test_a_menu_asks_again_after_a_timeout() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, MENU)
        await server.play([var_set("support")])
        await wait_until(lambda: reads(server) == 1)
        await server.play([packet("ACD_DIGITS", "")])  # Read() timed out
        await wait_until(lambda: reads(server) == 2)
        await server.play([packet("ACD_DIGITS", "1")])
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        assert engine.call(CALLER[2]).required_skill == "billing"
        task.cancel()


async def test_invalid_choices_past_the_retries_take_the_invalid_branch() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, MENU)
        await server.play([var_set("support")])
        await wait_until(lambda: reads(server) == 1)
        await server.play([packet("ACD_DIGITS", "7")])
        await wait_until(lambda: reads(server) == 2)
        await server.play([packet("ACD_DIGITS", "7")])
        await wait_until(lambda: any((p.action or "").lower() == "hangup" for p in server.received))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert reads(server) == 2 and ("redirect", "acd-dial", "201") not in sent(server)
    assert records[0]["outcome"] == "script_hangup"


def queued(engine: AcdEngine, call_id: str) -> bool:
    try:
        return engine.call(call_id) is not None
    except AcdError:
        return False


def announced(server: FakeAmiServer) -> int:
    return sent(server).count(("redirect", "acd-announce", "s"))


async def test_a_waiting_caller_hears_position_and_wait_and_keeps_the_place() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, "queue\n", agent=False)
        await server.play([var_set("support")])
        await wait_until(lambda: queued(engine, CALLER[2]))
        for i in range(2):  # two callers who came later
            engine.enqueue(Call(f"c{i}", caller="1"), "support", bridge.clock())
        announcing = asyncio.create_task(bridge.adapter.perform(
            CALLER[2], Announce(True, True, position_now=3, wait_s=150.0)))
        await wait_until(lambda: announced(server) == 1)
        assert sent(server)[-3:] == [("setvar", "ACD_POSITION", "3"), ("setvar", "ACD_WAIT_MIN", "3"),
                                     ("redirect", "acd-announce", "s")]
        await asyncio.sleep(0.05)
        assert not announcing.done(), "the step lasts until the dialplan reports its end"
        await server.play(transcript("announce_position_wait.ami"))
        await asyncio.wait_for(announcing, 5)
        assert position(engine, CALLER[2]) == 1, "the caller kept the place in line"
        bridge.login("u7")
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        task.cancel()


async def test_the_script_announces_the_live_position_while_the_caller_waits() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, "queue\nwhile waiting every=5:\n    announce position ewt\n",
                                                    agent=False)
        bridge.time_scale = 0.01
        await server.play([var_set("support")])
        await wait_until(lambda: announced(server) == 1)
        assert ("setvar", "ACD_POSITION", "1") in sent(server)
        assert ("setvar", "ACD_WAIT_MIN", "") in sent(server), "nobody working: no estimate to say"
        await server.play([packet("ACD_ANNOUNCED", "1")])
        await wait_until(lambda: announced(server) == 2)  # the next round of the waiting loop
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert records[0]["outcome"] == "abandoned" and records[0]["loss"] == "abandoned_in_queue"


async def test_an_announcement_before_the_queue_is_skipped_with_a_note() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, "announce position ewt\nqueue\n")
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert announced(server) == 0
    assert any("not waiting in a queue" in n for n in records[0]["notes"])


async def test_menu_prompts_play_in_the_callers_language() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, "set language=de\n" + MENU)
        await server.play([var_set("support")])
        await wait_until(lambda: reads(server) == 1)
        assert sent(server)[0] == ("setvar", "CHANNEL(language)", "de")
        task.cancel()


SAY = """collect customer_number prompt=enter_customer_number digits=4..10 timeout=8
say_number customer_number
set balance=1234.5
say_amount balance currency=SEK
queue
"""


def says(server: FakeAmiServer) -> list[dict[str, str]]:
    """The acd-say visits: the ACD_SAY_* channel variables set before each redirect there."""
    out, current = [], {}
    for item in sent(server):
        if item[0] == "setvar" and item[1].startswith("ACD_SAY_"):
            current[item[1]] = item[2]
        elif item == ("redirect", "acd-say", "s"):
            out.append(current)
            current = {}
    return out


async def test_say_number_and_say_amount_go_through_acd_say_one_after_the_other() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, SAY)
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-read", "s") in sent(server))
        await server.play([packet("ACD_DIGITS", "0421337")])
        await wait_until(lambda: len(says(server)) == 1)
        # A number with a leading zero is a customer number: said digit by digit, the zero kept.
        assert says(server)[0] == {"ACD_SAY_KIND": "digits", "ACD_SAY_NUMBER": "0421337", "ACD_SAY_CENTS": "",
                                   "ACD_SAY_CURRENCY": ""}
        await asyncio.sleep(0.1)
        assert len(says(server)) == 1, "the script waits until the number has been said"
        await server.play([packet("ACD_SAID", "1")])
        await wait_until(lambda: len(says(server)) == 2)
        assert says(server)[1] == {"ACD_SAY_KIND": "amount", "ACD_SAY_NUMBER": "1234", "ACD_SAY_CENTS": "50",
                                   "ACD_SAY_CURRENCY": "sek"}
        assert ("redirect", "acd-dial", "201") not in sent(server)
        await server.play([packet("ACD_SAID", "1")])
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert not any("say_" in n for n in records[0]["notes"])


async def test_a_value_that_is_no_number_is_skipped_with_a_note() -> None:
    async with FakeAmiServer() as server:
        engine, bridge, records, task = await start(server, "set plan=gold\nsay_number plan\nqueue\n")
        await server.play([var_set("support")])
        await wait_until(lambda: ("redirect", "acd-dial", "201") in sent(server))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert says(server) == []
    assert any("say_number skipped" in n and "not a number" in n for n in records[0]["notes"])


def test_say_settings_for_numbers_and_amounts() -> None:
    from appliance.domain.queue_script import PlayValue
    from appliance.pbx.ami_ivr import say_settings
    assert say_settings(PlayValue("number", 42))["ACD_SAY_NUMBER"] == "42"
    assert say_settings(PlayValue("number", "-7"))["ACD_SAY_KIND"] == "number"
    assert say_settings(PlayValue("number", "12.5")) is None  # decimals are for say_amount
    assert say_settings(PlayValue("number", None)) is None and say_settings(PlayValue("number", "NaN")) is None
    negative = say_settings(PlayValue("amount", "-3.07", "EUR"))
    assert (negative["ACD_SAY_NUMBER"], negative["ACD_SAY_CENTS"], negative["ACD_SAY_CURRENCY"]) == ("-3", "7", "eur")
    assert say_settings(PlayValue("amount", "0.999"))["ACD_SAY_NUMBER"] == "1"  # rounded to whole cents
