"""One factory for every byte stream a driver talks over: `open_transport(url)`.

    serial:///dev/ttyUSB0?baud=115200[&rtscts=1]   a real serial port (pyserial-asyncio-fast)
    pty:///dev/pts/7                                a pty slave opened as a serial port
    tcp://host:port, socket://host:port             a TCP byte stream (ser2net, modem servers)
    emu://name                                      an in-process emulator from `register_emulator`
    /dev/ttyUSB0                                    shorthand for serial://

An emulator is any object with `async def serve(reader, writer)`; `emu://` connects it through a
socket pair, so drivers see the same StreamReader/StreamWriter pair a real port gives.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Protocol

import serial
import serial_asyncio_fast

from hardware.serial.errors import AtClosed, TransportError

DEFAULT_BAUD = 115200


class Emulator(Protocol):
    """What `emu://` needs from an emulator: serve one connection until it ends."""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Talk to one connected driver."""


_EMULATORS: dict[str, Emulator] = {}


def register_emulator(name: str, emulator: Emulator) -> Callable[[], None]:
    """Make `emu://<name>` reach `emulator`; returns a function that unregisters it."""
    _EMULATORS[name] = emulator

    def unregister() -> None:
        if _EMULATORS.get(name) is emulator:
            del _EMULATORS[name]

    return unregister


class Transport:
    """A connected byte stream; `read` returns b'' at end of stream."""

    def __init__(self, url: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 cleanup: Callable[[], Awaitable[None]] | None = None) -> None:
        self.url = url
        self.reader = reader
        self.writer = writer
        self._cleanup = cleanup
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once `close` ran."""
        return self._closed

    async def read(self, limit: int = 4096) -> bytes:
        """Up to `limit` bytes as soon as any arrive; b'' when the other end went away."""
        try:
            return await self.reader.read(limit)
        except (OSError, serial.SerialException):
            return b""  # a pty whose master closed reads EIO: that is an unplug, not a bug

    async def write(self, data: bytes) -> None:
        """Write and drain; AtClosed if the stream is gone."""
        if self._closed or self.writer.is_closing():
            raise AtClosed(f"{self.url} is closed")
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (OSError, serial.SerialException) as exc:
            raise AtClosed(f"{self.url}: {exc}") from exc

    async def close(self) -> None:
        """Close the stream (and stop the emulator task behind emu://)."""
        if self._closed:
            return
        self._closed = True
        self.writer.close()
        with contextlib.suppress(OSError, serial.SerialException, asyncio.CancelledError):
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        if self._cleanup is not None:
            await self._cleanup()


async def _open_emulator(url: str, name: str) -> Transport:
    emulator = _EMULATORS.get(name)
    if emulator is None:
        raise TransportError(f"no emulator registered as {name!r} (known: {sorted(_EMULATORS)})")
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    emu_reader, emu_writer = await asyncio.open_connection(sock=theirs)

    async def run() -> None:
        try:
            await emulator.serve(emu_reader, emu_writer)
        finally:
            emu_writer.close()

    task = asyncio.create_task(run(), name=f"emulator {name}")

    async def cleanup() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    return Transport(url, reader, writer, cleanup)


async def _open_serial(url: str, path: str, query: dict[str, list[str]]) -> Transport:
    try:
        baud = int(query.get("baud", [str(DEFAULT_BAUD)])[0])
    except ValueError:
        raise TransportError(f"{url}: baud must be a number") from None
    rtscts = query.get("rtscts", ["0"])[0] in ("1", "true", "yes")
    try:
        reader, writer = await serial_asyncio_fast.open_serial_connection(url=path, baudrate=baud, rtscts=rtscts)
    except (OSError, serial.SerialException) as exc:
        raise TransportError(f"cannot open {url}: {exc}") from exc
    return Transport(url, reader, writer)


async def open_transport(url: str) -> Transport:
    """Open the byte stream named by `url` (see the module docstring for the forms)."""
    if url.startswith("/"):
        url = "serial://" + url
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    if parts.scheme == "emu":
        return await _open_emulator(url, parts.netloc or parts.path.lstrip("/"))
    if parts.scheme in ("serial", "pty"):
        if not parts.path:
            raise TransportError(f"{url}: no device path")
        return await _open_serial(url, parts.path, query)
    if parts.scheme in ("tcp", "socket"):
        if not parts.hostname or parts.port is None:
            raise TransportError(f"{url}: need host:port")
        try:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError as exc:
            raise TransportError(f"cannot connect to {url}: {exc}") from exc
        return Transport(url, reader, writer)
    raise TransportError(f"unknown transport scheme in {url!r} (serial, pty, tcp, socket, emu)")
