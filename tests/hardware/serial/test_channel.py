"""AtChannel against a scripted device, over emu://, a real pty and TCP."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from hardware.serial import (
    AtChannel, AtClosed, AtError, AtTimeout, CmsError, PtyEndpoint, TransportError, Urc, open_transport,
    register_emulator,
)
from hardware.serial.lines import Final


class ScriptedDevice:
    """Answers each command line with canned bytes; `push` sends unsolicited bytes; `chunk` splits writes."""

    def __init__(self, answers: dict[str, bytes | Callable[[str], bytes]], chunk: int = 0, echo: bool = False) -> None:
        self.answers = answers
        self.chunk = chunk
        self.echo = echo
        self.received: list[bytes] = []
        self.writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()

    async def push(self, data: bytes) -> None:
        await asyncio.wait_for(self.connected.wait(), 2)
        assert self.writer is not None
        if self.chunk:
            for i in range(0, len(data), self.chunk):
                self.writer.write(data[i:i + self.chunk])
                await self.writer.drain()
                await asyncio.sleep(0)
        else:
            self.writer.write(data)
            await self.writer.drain()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.connected.set()
        buf = b""
        while True:
            data = await reader.read(1024)
            if not data:
                return
            buf += data
            while True:
                cut = min((i for i in (buf.find(b"\r"), buf.find(b"\x1a"), buf.find(b"\x1b")) if i >= 0), default=-1)
                if cut < 0:
                    break
                line, term, buf = buf[:cut], buf[cut:cut + 1], buf[cut + 1:]
                self.received.append(line + term)
                if self.echo:
                    await self.push(line + term)
                key = line.decode() + ("<^Z>" if term == b"\x1a" else "<ESC>" if term == b"\x1b" else "")
                answer = self.answers.get(key, b"\r\nERROR\r\n")
                if callable(answer):
                    answer = answer(key)
                if answer:
                    await self.push(answer)


@pytest.fixture
async def device_channel() -> AsyncIterator[Callable[..., object]]:
    made: list[tuple[AtChannel, Callable[[], None]]] = []

    async def make(answers: dict, **options: object) -> tuple[AtChannel, ScriptedDevice]:
        device = ScriptedDevice(answers, **options)  # type: ignore[arg-type]
        name = f"scripted-{len(made)}-{id(device)}"
        unregister = register_emulator(name, device)
        channel = await AtChannel.open(f"emu://{name}", default_timeout=2)
        made.append((channel, unregister))
        return channel, device

    yield make
    for channel, unregister in made:
        await channel.close()
        unregister()


BASIC = {
    "AT": b"\r\nOK\r\n",
    "AT+CSQ": b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n",
    "ATI": b"\r\nACME GSM 3000\r\nRevision 1.0\r\n\r\nOK\r\n",
    "AT+CPIN?": b"\r\n+CME ERROR: 10\r\n",
    "AT+CMGS=9": b"\r\n> ",
    "001100<^Z>": b"\r\n+CMGS: 77\r\n\r\nOK\r\n",
    "<ESC>": b"\r\nOK\r\n",
    "AT+CMGS=10": b"\r\n+CMS ERROR: 322\r\n",
}


async def test_command_returns_lines_and_final(device_channel) -> None:
    channel, _ = await device_channel(BASIC)
    resp = await channel.command("AT+CSQ")
    assert resp.ok and resp.lines == ("+CSQ: 21,99",) and resp.first("+CSQ") == ["21", "99"]
    resp = await channel.command("ATI")
    assert resp.text == "ACME GSM 3000\nRevision 1.0"


async def test_errors_are_results_or_raise_with_check(device_channel) -> None:
    channel, _ = await device_channel(BASIC)
    resp = await channel.command("AT+CPIN?")
    assert not resp.ok and resp.result.kind == Final.CME_ERROR and resp.error_code == 10
    with pytest.raises(CmsError) as err:
        await channel.command("AT+CMGS=10", body="00", check=True)
    assert err.value.code == 322


async def test_prompt_with_body_in_one_call(device_channel) -> None:
    channel, device = await device_channel(BASIC)
    resp = await channel.command("AT+CMGS=9", body="001100", check=True)
    assert resp.first("+CMGS") == ["77"]
    assert device.received[-1] == b"001100\x1a"


async def test_prompt_in_two_steps_and_cancel(device_channel) -> None:
    channel, device = await device_channel(BASIC)
    prompt = await channel.command("AT+CMGS=9", expect_prompt=True)
    assert prompt.result.kind == Final.PROMPT
    resp = await channel.send_body("001100")
    assert resp.ok
    await channel.command("AT+CMGS=9", expect_prompt=True)
    cancelled = await channel.cancel_prompt()
    assert cancelled.ok and device.received[-1] == b"\x1b"
    assert (await channel.command("AT")).ok  # the lock was released


async def test_echo_is_dropped_including_the_body(device_channel) -> None:
    channel, _ = await device_channel(BASIC, echo=True)
    resp = await channel.command("AT+CSQ")
    assert resp.lines == ("+CSQ: 21,99",)
    resp = await channel.command("AT+CMGS=9", body="001100")
    assert resp.lines == ("+CMGS: 77",)


async def test_byte_by_byte_delivery(device_channel) -> None:
    channel, _ = await device_channel(BASIC, chunk=1)
    assert (await channel.command("ATI")).lines == ("ACME GSM 3000", "Revision 1.0")
    assert (await channel.command("AT+CMGS=9", body="001100")).ok


async def test_urcs_during_a_command_and_idle(device_channel) -> None:
    answers = dict(BASIC)
    answers["AT+CMGL=4"] = (b'\r\n+CMGL: 1,0,,5\r\n0011223344\r\n+CMTI: "SM",2\r\n'
                            b"+CMGL: 2,0,,5\r\n5566778899\r\n\r\nOK\r\n")
    channel, device = await device_channel(answers)
    seen: list[Urc] = []
    channel.on_unsolicited(seen.append)
    resp = await channel.command("AT+CMGL=4")
    assert resp.lines == ("+CMGL: 1,0,,5", "0011223344", "+CMGL: 2,0,,5", "5566778899")
    await device.push(b"\r\nRING\r\n\r\n+CMT: ,24\r\n07911326040000F0\r\n\r\n+CDS: 26\r\n0604\r\n")
    for _ in range(50):
        if len(seen) >= 4:
            break
        await asyncio.sleep(0.01)
    assert [u.name for u in seen] == ["+CMTI", "RING", "+CMT", "+CDS"]
    assert seen[0].args == ("SM", "2")
    assert seen[2].body == "07911326040000F0" and seen[3].body == "0604"


async def test_async_urc_callback_and_unsubscribe(device_channel) -> None:
    channel, device = await device_channel(BASIC)
    got: asyncio.Queue[Urc] = asyncio.Queue()

    async def listener(urc: Urc) -> None:
        await got.put(urc)

    remove = channel.on_unsolicited(listener)
    await device.push(b'\r\n+CREG: 5\r\n')
    assert (await asyncio.wait_for(got.get(), 2)).args == ("5",)
    remove()
    await device.push(b'\r\n+CREG: 1\r\n')
    await asyncio.sleep(0.05)
    assert got.empty()


async def test_timeout_raises_and_channel_recovers(device_channel) -> None:
    answers = dict(BASIC)
    answers["AT+SLOW"] = b""
    channel, _ = await device_channel(answers)
    with pytest.raises(AtTimeout):
        await channel.command("AT+SLOW", timeout=0.1)
    assert (await channel.command("AT")).ok


async def test_connect_switches_to_raw_and_back(device_channel) -> None:
    answers = dict(BASIC)
    answers["AT+FRM=96"] = b"\r\nCONNECT\r\n\xff\x03\x10\x10\x00data\x10\x03\r\nOK\r\n"
    channel, device = await device_channel(answers)
    resp = await channel.command("AT+FRM=96")
    assert resp.result.kind == Final.CONNECT and channel.raw_mode
    frame = await channel.read_raw(until=b"\x10\x03")
    assert frame == b"\xff\x03\x10\x10\x00data\x10\x03"
    with pytest.raises(AtError, match="raw"):
        await channel.command("AT")
    channel.end_raw()
    assert (await channel.wait_final(1)).ok
    await channel.send_raw(b"AT\r")  # raw writes go out untouched
    assert (await channel.wait_final(1)).ok


async def test_raw_read_by_count_and_partial(device_channel) -> None:
    answers = dict(BASIC)
    answers["ATD123"] = b"\r\nCONNECT 9600\r"
    channel, device = await device_channel(answers)
    assert (await channel.command("ATD123")).result.message == "9600"
    await device.push(b"\nabcdef")  # the LF of CONNECT's line end arrives late and is not data
    assert await channel.read_raw(4) == b"abcd"
    assert await channel.read_raw() == b"ef"
    with pytest.raises(AtTimeout):
        await channel.read_raw(1, timeout=0.05)
    await device.push(b"\r\nNO CARRIER\r\n")
    await asyncio.sleep(0.02)
    channel.end_raw()
    final = await channel.wait_final(1)
    assert final.result.kind == Final.NO_CARRIER


async def test_unplug_fails_pending_and_calls_on_close(device_channel) -> None:
    answers = dict(BASIC)
    answers["AT+SLOW"] = b""
    channel, device = await device_channel(answers)
    closed = asyncio.Event()
    channel.on_close(closed.set)
    task = asyncio.create_task(channel.command("AT+SLOW", timeout=5))
    await asyncio.wait_for(device.connected.wait(), 2)
    await asyncio.sleep(0.05)
    assert device.writer is not None
    device.writer.close()
    with pytest.raises(AtClosed):
        await task
    await asyncio.wait_for(closed.wait(), 2)
    assert channel.closed
    with pytest.raises(AtClosed):
        await channel.command("AT")


async def test_over_a_real_pty() -> None:
    device = ScriptedDevice(BASIC)
    endpoint = PtyEndpoint(device)
    path = await endpoint.start()
    channel = await AtChannel.open(f"pty://{path}", default_timeout=2)
    try:
        assert (await channel.command("AT+CSQ")).first("+CSQ") == ["21", "99"]
        assert (await channel.command("AT+CMGS=9", body="001100")).ok
        closed = asyncio.Event()
        channel.on_close(closed.set)
        await endpoint.unplug()
        await asyncio.wait_for(closed.wait(), 3)
    finally:
        await channel.close()
        await endpoint.close()


async def test_over_tcp_and_socket_urls() -> None:
    device = ScriptedDevice(BASIC)
    server = await asyncio.start_server(device.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for scheme in ("tcp", "socket"):
            channel = await AtChannel.open(f"{scheme}://127.0.0.1:{port}", default_timeout=2)
            assert (await channel.command("AT")).ok
            await channel.close()
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


@pytest.mark.parametrize("url, fragment", [
    ("ftp://x", "unknown transport scheme"),
    ("emu://nobody-registered", "no emulator"),
    ("tcp://127.0.0.1", "host:port"),
    ("serial:///dev/does-not-exist-ttyZZ", "cannot open"),
    ("tcp://127.0.0.1:1", "cannot connect"),
])
async def test_bad_urls_raise_transport_error(url: str, fragment: str) -> None:
    with pytest.raises(TransportError, match=fragment):
        await open_transport(url)
