"""Voice messages with Asterisk: the script's voicemail step redirects the caller to `acd-voicemail,<max s>`,
whose Record() reports RECORDED_FILE (a VarSet event, shaped like Asterisk 18's) and hangs up; the adapter reads
that file from the configured spool directory, by its name only."""
from __future__ import annotations

import asyncio

from hardware.ami.codec import make_packet
from hardware.ami.fake_server import FakeAmiServer

from appliance.bus import Bus
from appliance.domain.acd import AcdEngine, Agent, QueueConfig
from appliance.domain.queue_script import parse
from appliance.pbx.ami_adapter import AmiPbx
from appliance.pbx.bridge import AcdBridge
from tests.appliance.pbx.test_ami_adapter import CALLER, channel, hangup, var_set, wait_until
from tests.appliance.webui.test_acd_config_api import wav_bytes


def recorded(path: str):
    """Record() sets RECORDED_FILE: the file's path without its extension (app_record.c)."""
    return make_packet([("Event", "VarSet"), ("Privilege", "dialplan,all"), *channel(*CALLER),
                        ("Variable", "RECORDED_FILE"), ("Value", path)])


async def start(server: FakeAmiServer, voicemail_dir: str):
    engine = AcdEngine()
    engine.add_queue(QueueConfig("support"))
    engine.add_agent(Agent("u7", extension="201"))
    pbx = AmiPbx(f"tcp://acd:s3cret@127.0.0.1:{server.port}", lambda a: None, {"201": "u7"}.get,
                 voicemail_dir=voicemail_dir)
    records: list[dict] = []
    kept: list[bytes] = []

    async def recorder(r: dict) -> None:
        records.append(r)

    async def keep(recording) -> dict:
        kept.append(recording.audio)
        return {"digest": "d", "content_type": recording.content_type, "duration_s": recording.duration_s,
                "size": len(recording.audio)}

    bridge = AcdBridge(engine, pbx, Bus(), recorder=recorder,
                       scripts={"support": parse("voicemail to=support@example.com max=60\n")})
    bridge.keep_recording = keep
    task = asyncio.create_task(bridge.run())
    await server.wait_for_login(1)
    await wait_until(lambda: bridge.adapter_connected)
    return pbx, records, kept, task


def voicemail_redirects(server: FakeAmiServer) -> list[tuple[str, str, str]]:
    return [(p.get("Channel"), p.get("Context"), p.get("Exten")) for p in server.received
            if (p.action or "").lower() == "redirect" and p.get("Context") == "acd-voicemail"]


async def test_the_recording_is_read_from_the_spool_directory(tmp_path) -> None:
    audio = wav_bytes(1.5)
    (tmp_path / "1717430400.1.wav").write_bytes(audio)
    async with FakeAmiServer() as server:
        pbx, records, kept, task = await start(server, str(tmp_path))
        await server.play([var_set("support")])
        await wait_until(lambda: voicemail_redirects(server))
        assert voicemail_redirects(server) == [("PJSIP/trunk-00000001", "acd-voicemail", "60")]
        await server.play([recorded("/var/spool/asterisk/acd-voicemail/1717430400.1"), hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert kept == [audio]
    assert records[0]["outcome"] == "voicemail" and records[0]["voicemail"]["duration_s"] == 1.5


async def test_a_path_outside_the_directory_is_never_read(tmp_path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (tmp_path / "secret.wav").write_bytes(wav_bytes())
    async with FakeAmiServer() as server:
        pbx, records, kept, task = await start(server, str(spool))
        await server.play([var_set("support")])
        await wait_until(lambda: voicemail_redirects(server))
        await server.play([recorded(str(spool / ".." / "secret")), hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert kept == [] and records[0]["voicemail"] is None and records[0]["outcome"] == "voicemail"
    assert any("voice message 'secret' not read" in n for n in records[0]["notes"]) and pbx.counts["errors"] == 1


async def test_a_recording_that_is_no_wav_is_reported_on_the_call(tmp_path) -> None:
    (tmp_path / "1717430400.1.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    async with FakeAmiServer() as server:
        pbx, records, kept, task = await start(server, str(tmp_path))
        await server.play([var_set("support")])
        await wait_until(lambda: voicemail_redirects(server))
        await server.play([recorded("/var/spool/asterisk/acd-voicemail/1717430400.1"), hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert kept == [] and any("is not a WAV file" in n for n in records[0]["notes"])


async def test_a_caller_gone_before_recording_leaves_no_message(tmp_path) -> None:
    async with FakeAmiServer() as server:
        pbx, records, kept, task = await start(server, str(tmp_path))
        await server.play([var_set("support")])
        await wait_until(lambda: voicemail_redirects(server))
        await server.play([hangup(CALLER)])
        await wait_until(lambda: records)
        task.cancel()
    assert kept == [] and records[0]["outcome"] == "voicemail" and records[0]["voicemail"] is None


async def test_without_a_spool_directory_the_step_is_skipped_with_the_reason() -> None:
    async with FakeAmiServer() as server:
        pbx, records, kept, task = await start(server, "")
        await server.play([var_set("support")])
        await wait_until(lambda: records)
        hung_up = [p.get("Channel") for p in server.received if (p.action or "").lower() == "hangup"]
        task.cancel()
    assert kept == [] and any("voicemail_dir is not set" in n for n in records[0]["notes"])
    assert hung_up == ["PJSIP/trunk-00000001"], "the script ended: the caller is not left waiting"
