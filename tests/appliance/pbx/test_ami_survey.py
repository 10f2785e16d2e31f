"""The after-call survey with Asterisk against the fake AMI server: the script's survey step sets ACD_SURVEY on the
caller's channel; when the agent hangs up (Dial option g) the caller answers in `acd-survey`, whose
ACD_SURVEY_ANSWER variables arrive as VarSet events (tests/data/ami/survey_*.ami); the agent is free at once,
the answers land in the same survey store as the simulator's, and a caller who hangs up has not answered."""
from __future__ import annotations

import datetime
from pathlib import Path

from hardware.ami.fake_server import FakeAmiServer

from appliance.db import Database
from appliance.domain.acd import AcdEngine, Agent, AgentState, QueueConfig
from appliance.domain.queue_script import parse
from appliance.services.pbx_bridge import save_record
from tests.appliance.pbx.ami_rig import start_bridge
from tests.appliance.pbx.test_ami_adapter import AGENT, CALLER, dial_end, hangup, var_set, wait_until

DATA = Path(__file__).resolve().parents[2] / "data" / "ami"
SCRIPT = "survey overall_satisfaction agent_helpfulness\nqueue\n"


async def start(server: FakeAmiServer, script: str = SCRIPT):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support", offer_timeout_s=30, wrap_up_s=60))
    engine.add_agent(Agent("u7", extension="201"))
    pbx, _bridge, records, task = await start_bridge(server, engine, scripts={"support": parse(script)})
    return engine, pbx, records, task


def actions(server: FakeAmiServer, name: str) -> list[dict[str, str]]:
    return [dict(p.items) for p in server.received if (p.action or "").lower() == name]


async def talking(server: FakeAmiServer, script: str = SCRIPT):
    """The caller arrives, the survey is set up on its channel, u7 answers."""
    engine, pbx, records, task = await start(server, script)
    await server.play([var_set("support")])
    await wait_until(lambda: actions(server, "redirect"))
    await server.play([dial_end("ANSWER")])
    await wait_until(lambda: engine.agent("u7").state is AgentState.BUSY)
    return engine, pbx, records, task


async def test_the_survey_step_marks_the_callers_channel_for_the_dialplan() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, records, task = await talking(server)
        task.cancel()
    setvar = actions(server, "setvar")
    assert [(a["Channel"], a["Variable"], a["Value"]) for a in setvar] == [
        ("PJSIP/trunk-00000001", "ACD_SURVEY", "overall_satisfaction^agent_helpfulness")]


async def test_answers_from_the_dialplan_are_recorded_and_the_agent_is_free_meanwhile() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, records, task = await talking(server)
        packets = (DATA / "survey_answered.ami").read_bytes()
        # The agent's hang-up ends the call at once: wrap-up starts while the caller is still answering.
        agent_gone = packets[:packets.index(b"Event: BridgeLeave", packets.index(b"Event: Hangup"))]
        await server.play(agent_gone, chunks="random")
        await wait_until(lambda: engine.agent("u7").state is AgentState.WRAP_UP)
        assert records == [], "the call is recorded once the survey is over"
        await server.play(packets[len(agent_gone):])
        await wait_until(lambda: records)
        task.cancel()
    record = records[0]
    assert record["outcome"] == "answered" and record["agent_id"] == "u7"
    assert record["survey"] == {"questions": ["overall_satisfaction", "agent_helpfulness"], "scale": 5,
                                "answers": [4, 5]}
    assert record["survey_score"] == 4 and not any("survey" in n for n in record["notes"])
    assert pbx.calls == {} and pbx.by_uniqueid == {}


async def test_a_caller_who_hangs_up_during_the_survey_has_not_answered() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, records, task = await talking(server)
        await server.play((DATA / "survey_caller_hangs_up.ami").read_bytes())
        await wait_until(lambda: records)
        task.cancel()
    assert records[0]["outcome"] == "answered" and records[0]["survey"] is None
    assert records[0]["survey_score"] is None and "survey not answered" in records[0]["notes"]
    assert pbx.calls == {}


async def test_a_caller_who_hangs_up_on_the_agent_takes_no_survey() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, records, task = await talking(server)
        await server.play([hangup(CALLER), hangup(AGENT)])
        await wait_until(lambda: records)
        task.cancel()
    assert records[0]["outcome"] == "answered" and "survey not answered" in records[0]["notes"]
    assert engine.agent("u7").state is AgentState.WRAP_UP


async def test_without_a_survey_step_nothing_is_set_and_the_call_ends_with_the_agent() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, records, task = await talking(server, "queue\n")
        await server.play([hangup(AGENT)])
        await wait_until(lambda: records)
        await server.play([hangup(CALLER)])  # acd-dial's Hangup() after the agent left
        await wait_until(lambda: pbx.calls == {})
        task.cancel()
    assert actions(server, "setvar") == []
    assert records[0]["outcome"] == "answered" and records[0]["survey"] is None
    assert not any("survey" in n for n in records[0]["notes"]) and len(records) == 1


async def test_ami_answers_reach_the_survey_statistics(first_boot, database_url) -> None:
    async with FakeAmiServer() as server:
        engine, pbx, records, task = await talking(server)
        await server.play((DATA / "survey_answered.ami").read_bytes())
        await wait_until(lambda: records)
        task.cancel()
    db = Database(database_url)

    def stats() -> dict:
        from appliance.domain.permissions import Perm
        from appliance.models import Tenant
        from appliance.models.access.acd_media import survey_stats
        from appliance.models.access.scope import Actor, Scope
        tenant = Tenant.create(name="Acme", region="SE")
        save_record(records[0], tenant.id, None)
        admin = Actor(None, "admin", "admin", None, frozenset(Perm))
        return survey_stats(Scope(admin), {"by": "queue"}, datetime.date.today())

    figures = await db.call(stats)
    db.close()
    assert figures["total"]["calls"] == 1 and figures["total"]["answers"] == 2
    assert figures["total"]["average"] == 4.5 and figures["groups"][0]["key"] == "support"


async def test_hanging_up_from_the_desk_ends_the_agents_side_and_the_caller_is_surveyed() -> None:
    async with FakeAmiServer() as server:
        engine, pbx, records, task = await talking(server)
        bridge = pbx.sink
        await bridge.hangup("1717430400.1")
        assert [a["Channel"] for a in actions(server, "hangup")] == ["PJSIP/201-00000002"]
        assert engine.agent("u7").state is AgentState.WRAP_UP
        await server.play((DATA / "survey_answered.ami").read_bytes())
        await wait_until(lambda: records)
        task.cancel()
    assert records[0]["survey"]["answers"] == [4, 5] and pbx.calls == {}
