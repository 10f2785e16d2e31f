"""gammu (the Debian package) against our emulator over a real pty: a third party reads and writes our PDUs."""
from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hardware.gsm.emulator import GsmEmulator
from hardware.gsm.pdu import DeliverPdu, decode_pdu
from hardware.gsm.reassembly import Reassembler
from hardware.serial import PtyEndpoint
from tests.tools import require_tool

pytestmark = pytest.mark.needs_tool("gammu")
STAMP = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


class Gammu:
    """Runs gammu with a private gammurc pointing at the emulator's pty."""

    def __init__(self, binary: str, rc: Path) -> None:
        self.binary, self.rc = binary, rc

    async def run(self, *args: str, timeout: float = 60) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            self.binary, "-c", str(self.rc), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        return proc.returncode or 0, out.decode("utf-8", "replace")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[GsmEmulator, Gammu]]:
    binary = require_tool("gammu", "gammu")
    emu = GsmEmulator(pin="1234")
    endpoint = PtyEndpoint(emu)
    path = await endpoint.start()
    rc = tmp_path / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {path}\nconnection = at\nlogfile = {tmp_path / 'gammu.log'}\n"
                  "logformat = textalldate\n")
    yield emu, Gammu(binary, rc)
    await endpoint.close()


def message_texts(output: str) -> list[tuple[str, str]]:
    """(remote number, text) per message in `gammu geteachsms` output."""
    out = []
    for block in re.split(r"\n(?=Location \d+, folder)", output):
        number = re.search(r'Remote number\s+: "([^"]*)"', block)
        if not number:
            continue
        body = block.split("\n\n", 2)
        out.append((number.group(1), body[1].rstrip("\n") if len(body) > 1 else ""))
    return out


async def test_identify(rig) -> None:
    emu, gammu = rig
    code, out = await gammu.run("identify")
    assert code == 0, out
    assert f"Manufacturer         : {emu.manufacturer}" in out
    assert f"IMEI                 : {emu.imei}" in out
    assert f"Firmware             : {emu.revision}" in out


async def test_getallsms_reads_what_we_injected(rig) -> None:
    emu, gammu = rig
    injected = {
        "+46708251358": "Hello €uro [brackets] {braces} ~^|\\",
        "+46701112233": "Long message, part of a set. " * 9,  # 261 chars: two GSM-7 parts
        "+79161234567": "Привет, мир! Emoji: 😀👍",
    }
    for i, (sender, text) in enumerate(injected.items()):
        emu.inject_sms(text=text, sender=sender, reference=40 + i)
    code, out = await gammu.run("geteachsms")
    assert code != 0 and "PIN" in out  # the SIM is locked until gammu enters the PIN
    code, out = await gammu.run("entersecuritycode", "PIN", "1234")
    assert code == 0, out
    assert emu.pin_state == "READY"
    code, out = await gammu.run("geteachsms")
    assert code == 0, out
    assert "Unicode" in out and "Concatenated (linked) message, ID (8 bit) 41, 2 parts" in out
    assert dict(message_texts(out)) == injected


async def test_getallsms_reads_stored_parts_one_by_one(rig) -> None:
    emu, gammu = rig
    emu.pin_state = "READY"
    emu.inject_sms(text="Ω" * 200, sender="+46708251358", reference=7)
    code, out = await gammu.run("getallsms")
    assert code == 0, out
    assert [t for _, t in message_texts(out)] == ["Ω" * 153, "Ω" * 47]
    assert "part 1 of 2" in out and "part 2 of 2" in out


@pytest.mark.parametrize("args, text", [
    (("-text", "Hi from gammu, 100 € [ok]"), "Hi from gammu, 100 € [ok]"),
    (("-unicode", "-text", "Юникод и эмодзи 😀"), "Юникод и эмодзи 😀"),
    (("-len", "400", "-text", "Multipart from gammu. " * 12), "Multipart from gammu. " * 12),
])
async def test_sendsms_arrives_and_our_decoder_agrees(rig, args: tuple[str, ...], text: str) -> None:
    emu, gammu = rig
    emu.pin_state = "READY"
    code, out = await gammu.run("sendsms", "TEXT", "+46701234567", *args)
    assert code == 0, out
    assert emu.sent, out
    gammu_refs = [int(r) for r in re.findall(r"message reference=(\d+)", out)]
    assert gammu_refs == [s.reference for s in emu.sent]
    reassembler = Reassembler()
    whole = None
    for sent in emu.sent:
        msg = decode_pdu(sent.raw)  # decode the bytes gammu wrote, independently of the emulator's copy
        assert str(msg.to) == "+46701234567"
        # Feed the SUBMITs to the reassembler in the DeliverPdu shape it expects.
        whole = reassembler.add(DeliverPdu(sender=msg.to, timestamp=STAMP, text=msg.text, dcs=msg.dcs, udh=msg.udh),
                                0) or whole
    assert whole is not None and whole.text == text
    assert len(emu.sent) == (2 if "-len" in args else 1)
