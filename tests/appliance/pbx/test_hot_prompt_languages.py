"""Hot prompts by language in the bridge (B10): a caller whose language the script knows hears the hot prompt
switched on for that language, a caller of another or no language the one switched on for every caller, and
none where neither is on; the PBX is told the caller's language so it plays that recording."""
from __future__ import annotations

import asyncio

from appliance.bus import Bus
from appliance.domain.acd import AcdEngine, QueueConfig
from appliance.domain.queue_script import Menu, Play, parse
from appliance.pbx.adapter import PbxAdapter
from appliance.pbx.bridge import AcdBridge

SCRIPT = """\
menu choose_language timeout=4:
    1:
        set language=de
    2:
        set language=sv
hotprompt outage_notice
hotprompt storm_warning
hangup
"""
ACME = 7


class ScriptedPbx(PbxAdapter):
    """Callers press the key their number ends with; every prompt played is written down."""

    name = "scripted"

    def __init__(self) -> None:
        super().__init__()
        self.played: dict[str, list[tuple[str, str | None]]] = {}

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def offer(self, call_id, agent_id, extension, caller_display) -> None: ...

    async def withdraw(self, call_id, agent_id) -> None: ...

    async def redirect(self, call_id, number) -> None: ...

    async def hangup(self, call_id) -> None: ...

    async def perform(self, call_id, action):
        if isinstance(action, Menu):
            key = call_id[-1]
            return key if key in action.keys else None
        if isinstance(action, Play):
            self.played.setdefault(call_id, []).append((action.prompt, action.language))
        return None


async def callers_hear(hot: set) -> tuple[dict, list[dict]]:
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support"))
    pbx = ScriptedPbx()
    records: list[dict] = []

    async def recorder(r: dict) -> None:
        records.append(r)

    bridge = AcdBridge(engine, pbx, Bus(), scripts={"support": parse(SCRIPT)}, recorder=recorder)
    bridge.queue_tenants["support"] = ACME
    bridge.hot_prompts.update(hot)
    task = asyncio.create_task(bridge.run())
    for call_id in ("de-caller-1", "sv-caller-2", "no-language-0"):
        bridge.call_arrived(call_id, "0612345678", "0201234567", "support")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while len(records) < 3:
        assert loop.time() < deadline, "the scripts did not finish"
        await asyncio.sleep(0.01)
    task.cancel()
    return pbx.played, records


async def test_each_caller_hears_the_hot_prompt_of_their_language_else_the_one_for_all() -> None:
    played, records = await callers_hear({(ACME, "outage_notice", "de"), (ACME, "outage_notice", ""),
                                          (None, "storm_warning", "sv")})
    assert played["de-caller-1"] == [("outage_notice", "de")]
    assert played["sv-caller-2"] == [("outage_notice", "sv"), ("storm_warning", "sv")]
    assert played["no-language-0"] == [("outage_notice", None)]
    notes = {r["call_id"]: r["notes"] for r in records}
    assert "hot prompt outage_notice (language de)" in notes["de-caller-1"]
    assert "hot prompt outage_notice (every caller)" in notes["sv-caller-2"]
    assert "hot prompt storm_warning (language sv)" in notes["sv-caller-2"]


async def test_a_hot_prompt_for_one_language_is_silent_for_the_others() -> None:
    played, records = await callers_hear({(ACME, "outage_notice", "de")})
    assert played == {"de-caller-1": [("outage_notice", "de")]}


async def test_another_tenants_hot_prompt_is_not_heard() -> None:
    played, records = await callers_hear({(ACME + 1, "outage_notice", ""), (ACME + 1, "outage_notice", "de")})
    assert played == {} and all(not any("hot prompt" in n for n in r["notes"]) for r in records)
