"""Voice messages and after-call surveys through the bridge with the simulator: the caller's recording is a real
WAV kept through the bridge's hook, and survey answers reach the call record one digit per question."""
from __future__ import annotations

import asyncio
import io
import random
import wave

from appliance.bus import Bus
from appliance.domain.acd import AcdEngine, Agent, QueueConfig
from appliance.domain.queue_script import Survey, parse
from appliance.pbx.adapter import Recording
from appliance.pbx.bridge import AcdBridge
from appliance.pbx.simulated import SimTraffic, SimulatedPbx

SCALE = 0.002


def build(script: str, survey_rate: float = 1.0, bots: int = 2):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support", name="Support"))
    names = [f"bot{i}" for i in range(bots)]
    for i, name in enumerate(names):
        engine.add_agent(Agent(name, extension=str(200 + i)))
    records: list[dict] = []
    kept: list[Recording] = []

    async def recorder(record: dict) -> None:
        records.append(record)

    async def keep(recording: Recording) -> dict:
        kept.append(recording)
        return {"digest": f"d{len(kept)}", "content_type": recording.content_type,
                "duration_s": recording.duration_s, "size": len(recording.audio)}

    pbx = SimulatedPbx([], set(names), random.Random(3), time_scale=SCALE, survey_rate=survey_rate, voice_cap_s=2.0)
    bridge = AcdBridge(engine, pbx, Bus(), scripts={"support": parse(script)}, recorder=recorder, time_scale=SCALE)
    bridge.keep_recording = keep
    for name in names:
        bridge.login(name)
    traffic = SimTraffic("support", "+4684490150", 0, handle_mean_s=5, patience_mean_s=None)
    return bridge, pbx, traffic, records, kept


async def wait_until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_a_caller_leaves_a_voice_message_that_is_kept_as_wav() -> None:
    bridge, pbx, traffic, records, kept = build("voicemail to=support@example.com max=20\n")
    task = asyncio.create_task(bridge.run())
    pbx.arrive(traffic, caller="+46701234567")
    await wait_until(lambda: len(records) == 1)
    task.cancel()
    record = records[0]
    assert record["outcome"] == "voicemail"
    assert record["voicemail"]["to"] == "support@example.com" and record["voicemail"]["digest"] == "d1"
    with wave.open(io.BytesIO(kept[0].audio)) as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 1
        seconds = w.getnframes() / w.getframerate()
    assert 1.0 < seconds <= 2.01 and abs(seconds - record["voicemail"]["duration_s"]) < 0.05
    assert not pbx.calls, "the simulated caller hung up after the message"


async def test_without_a_store_the_call_says_the_message_was_not_kept() -> None:
    bridge, pbx, traffic, records, kept = build("voicemail to=support@example.com max=10\n")
    bridge.keep_recording = None
    task = asyncio.create_task(bridge.run())
    pbx.arrive(traffic)
    await wait_until(lambda: len(records) == 1)
    task.cancel()
    assert records[0]["voicemail"] is None
    assert any("not kept" in n for n in records[0]["notes"])


async def test_answered_calls_take_the_survey_with_one_answer_per_question() -> None:
    bridge, pbx, traffic, records, _ = build("survey overall agent_help scale=4\nqueue\n")
    task = asyncio.create_task(bridge.run())
    for _ in range(5):
        pbx.arrive(traffic)
    await wait_until(lambda: len(records) == 5)
    task.cancel()
    for record in records:
        assert record["outcome"] == "answered"
        survey = record["survey"]
        assert survey["questions"] == ["overall", "agent_help"] and survey["scale"] == 4
        assert len(survey["answers"]) == 2 and all(1 <= a <= 4 for a in survey["answers"])
        assert record["survey_score"] == survey["answers"][0]


async def test_callers_who_skip_the_survey_leave_no_answers() -> None:
    bridge, pbx, traffic, records, _ = build("survey overall\nqueue\n", survey_rate=0.0)
    task = asyncio.create_task(bridge.run())
    pbx.arrive(traffic)
    await wait_until(lambda: len(records) == 1)
    task.cancel()
    assert records[0]["survey"] is None and records[0]["survey_score"] is None


def test_survey_answers_keep_only_keys_on_the_scale() -> None:
    survey = Survey("q1", ("q1", "q2", "q3"), 5)
    assert survey.answers_from([5, "3", 9]) == [5, 3, None]
    assert Survey("q1").answers_from(4) == [4]
    assert survey.answers_from(["*", None, 0]) == []
    assert survey.answers_from(None) == []
    assert survey.answers_from([1, 2, 3, 4]) == [1, 2, 3]
