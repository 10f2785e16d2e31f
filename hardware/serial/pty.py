"""Serve an emulator on a pseudo-terminal, so real programs (gammu, efax, our driver) open its slave path.

    endpoint = PtyEndpoint(emulator)
    path = await endpoint.start()      # '/dev/pts/7': open it as a serial port
    await endpoint.unplug()            # close the pty: the other side sees the device vanish
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import tty

from hardware.serial.transport import Emulator


class PtyEndpoint:
    """One pty pair; the emulator talks on the master side for as long as the endpoint lives."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.path: str | None = None
        self._master = -1
        self._slave = -1
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_transport: asyncio.ReadTransport | None = None

    async def start(self) -> str:
        """Create the pty, start serving, and return the slave path."""
        loop = asyncio.get_running_loop()
        self._master, self._slave = os.openpty()
        # Raw mode: no echo, no CR/LF translation by the line discipline; the emulator does the echo.
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        # Holding the slave open keeps the master readable while clients close and reopen the port.
        reader = asyncio.StreamReader()
        read_file = os.fdopen(os.dup(self._master), "rb", buffering=0)
        write_file = os.fdopen(os.dup(self._master), "wb", buffering=0)
        self._read_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), read_file)
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, write_file)
        self._writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        self._task = asyncio.create_task(self._serve(reader, self._writer), name=f"pty emulator {self.path}")
        return self.path

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            await self.emulator.serve(reader, writer)
        self._close_fds()  # the emulator stopped serving: the device is gone

    @property
    def running(self) -> bool:
        """True until `unplug`/`close`."""
        return self._task is not None and not self._task.done()

    async def unplug(self) -> None:
        """Stop serving and close both ends, as if the USB modem were pulled out."""
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._close_fds()

    def _close_fds(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._read_transport is not None:
            self._read_transport.close()  # holds a dup of the master: it must go for the hang-up to show
            self._read_transport = None
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    async def close(self) -> None:
        """Same as `unplug`."""
        await self.unplug()
