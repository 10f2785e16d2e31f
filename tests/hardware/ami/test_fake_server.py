"""The fake Asterisk manager on the wire, byte for byte, seen from a bare socket."""
from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import AsyncIterator

import pytest

from hardware.ami.codec import AmiParser, Packet, encode_action, split_packets
from hardware.ami.fake_server import FakeAmiServer

DATA = Path(__file__).parents[2] / "data" / "ami"


class Wire:
    """A raw TCP peer that reads whole AMI packets."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = AmiParser(expect_banner=False)

    async def packet(self, timeout: float = 2.0) -> Packet:
        while True:
            item = self.parser.next_packet()
            if item is not None:
                assert isinstance(item, Packet)
                return item
            data = await asyncio.wait_for(self.reader.read(4096), timeout)
            assert data, "server closed the connection"
            self.parser.feed(data)

    def send(self, action: str, action_id: str | None, **fields: str) -> None:
        self.writer.write(encode_action(action, action_id, fields))


@pytest.fixture
async def server() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer() as srv:
        yield srv


async def connect(server: FakeAmiServer) -> tuple[Wire, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    banner = await asyncio.wait_for(reader.readline(), 2)
    return Wire(reader, writer), banner


async def test_banner_and_login_bytes(server: FakeAmiServer) -> None:
    wire, banner = await connect(server)
    assert banner == b"Asterisk Call Manager/7.0.1\r\n"
    wire.send("Ping", "p0")
    assert (await wire.packet()).items == (("Response", "Error"), ("ActionID", "p0"), ("Message", "Permission denied"))
    wire.send("Login", "l1", Username="acd", Secret="s3cret")
    raw = await asyncio.wait_for(wire.reader.readuntil(b"\r\n\r\n"), 2)
    assert raw == b"Response: Success\r\nActionID: l1\r\nMessage: Authentication accepted\r\n\r\n"
    booted = await wire.packet()
    assert booted.event == "FullyBooted" and booted.get("Status") == "Fully Booted"
    wire.send("Ping", "p1")
    pong = await wire.packet()
    assert [k for k, _ in pong.items] == ["Response", "ActionID", "Ping", "Timestamp"] and pong.get("Ping") == "Pong"
    wire.send("Logoff", "bye")
    assert (await wire.packet()).items == (("Response", "Goodbye"), ("ActionID", "bye"),
                                           ("Message", "Thanks for all the fish."))
    assert await asyncio.wait_for(wire.reader.read(), 2) == b""  # and hangs up
    wire.writer.close()


async def test_md5_challenge_and_refusal(server: FakeAmiServer) -> None:
    wire, _ = await connect(server)
    wire.send("Challenge", "c1", AuthType="MD5")
    challenge = (await wire.packet()).get("Challenge") or ""
    assert challenge.isdigit()
    wire.send("Login", "l1", Username="acd", AuthType="MD5", Key=hashlib.md5(b"wrong" + b"s3cret").hexdigest())
    assert (await wire.packet()).get("Message") == "Authentication failed"
    assert await asyncio.wait_for(wire.reader.read(), 2) == b""
    wire.writer.close()
    wire, _ = await connect(server)
    wire.send("Challenge", "c2", AuthType="MD5")
    challenge = (await wire.packet()).get("Challenge") or ""
    wire.send("Login", "l2", Username="acd", AuthType="MD5", Key=hashlib.md5((challenge + "s3cret").encode()).hexdigest())
    assert (await wire.packet()).get("Message") == "Authentication accepted"
    wire.writer.close()


async def test_replay_is_byte_exact_and_channels_listed(server: FakeAmiServer) -> None:
    wire, _ = await connect(server)
    wire.send("Login", "l1", Username="acd", Secret="s3cret", Events="off")
    await wire.packet()
    data = (DATA / "inbound_queue_answered.ami").read_bytes()
    packets = split_packets(data)
    cut = next(i for i, p in enumerate(packets) if p.event == "AgentConnect")
    await server.play(packets[:cut])  # events off: nothing is written to us
    wire.send("CoreShowChannels", "csc")
    ack = await wire.packet()
    assert ack.items == (("Response", "Success"), ("ActionID", "csc"), ("EventList", "start"),
                         ("Message", "Channels will follow"))
    items = [await wire.packet(), await wire.packet()]
    done = await wire.packet()
    assert [p.event for p in items] == ["CoreShowChannel", "CoreShowChannel"]
    keys = [k for k, _ in items[0].items]
    assert keys[:3] == ["Event", "ActionID", "Channel"] and keys[-4:] == [
        "Application", "ApplicationData", "Duration", "BridgeId"]
    assert done.items == (("Event", "CoreShowChannelsComplete"), ("ActionID", "csc"), ("EventList", "Complete"),
                          ("ListItems", "2"))
    wire.send("Events", "ev", EventMask="on")
    await wire.packet()
    await server.play(packets[cut:])
    got = b""
    while len(got) < len(b"".join(p.encode() for p in packets[cut:])):
        got += await asyncio.wait_for(wire.reader.read(65536), 2)
    assert got == b"".join(p.encode() for p in packets[cut:])
    assert server.book.channels == {}
    wire.writer.close()


async def test_unknown_action_and_missing_action(server: FakeAmiServer) -> None:
    wire, _ = await connect(server)
    wire.send("Login", "l1", Username="acd", Secret="s3cret", Events="off")
    await wire.packet()
    wire.send("Frobnicate", "f1")
    assert (await wire.packet()).get("Message") == (
        "Invalid/unknown command: Frobnicate. Use Action: ListCommands to show available commands.")
    wire.writer.write(b"ActionID: x\r\n\r\n")
    assert (await wire.packet()).get("Message") == "Missing action in request"
    wire.writer.close()
