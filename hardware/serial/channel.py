"""`AtChannel`: commands and responses over any transport (V.250, TS 27.007, TS 27.005).

Written by hand: the AT command flow is not something a maintained library does for asyncio.

    channel = await AtChannel.open("serial:///dev/ttyUSB0?baud=115200")   # or pty://, tcp://, emu://
    channel.on_unsolicited(lambda urc: print(urc.name, urc.args, urc.body))  # RING, +CMTI, +CDS, +CREG …
    resp = await channel.command("AT+CSQ", timeout=5)        # AtResponse: .lines, .final, .ok, .first("+CSQ")
    resp.raise_for_error()                                    # CmeError / CmsError / AtCommandError
    resp = await channel.command("AT+CMGS=23", body=pdu_hex)  # waits for "> ", sends body + Ctrl-Z
    resp = await channel.command("AT+CMGS=23", expect_prompt=True)   # or in two steps:
    resp = await channel.send_body(pdu_hex)                           #   … then the body (cancel_prompt() sends ESC)
    resp = await channel.command("AT+FRM=96")                 # final CONNECT: the channel is now in raw mode
    data = await channel.read_raw(until=b"\x10\x03")          # raw bytes; DLE handling is the caller's
    await channel.send_raw(b"…")
    channel.end_raw(); resp = await channel.wait_final(10)    # back to lines; the OK / NO CARRIER after the data
    await channel.close()

Rules: verbose result codes (ATV1) are expected. Echo (ATE1) is recognised and dropped. One command
at a time (an asyncio lock). A line is the answer to the pending command if it carries the
command's own name (+CREG: for AT+CREG?) or is not a known URC; known URCs and anything arriving
with no command pending go to the `on_unsolicited` callbacks; +CMT/+CBM/PDU-mode +CDS carry their
second line as `Urc.body`. A timeout raises AtTimeout; a closed transport raises AtClosed and calls
the `on_close` callbacks.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from hardware.serial.errors import AtClosed, AtError, AtParseError, AtTimeout
from hardware.serial.lines import (
    AtResponse, Final, FinalResult, LineKind, Urc, classify, parse_final, parse_info, parse_urc, urc_has_body,
)
from hardware.serial.transport import Transport, open_transport

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
CTRL_Z = b"\x1a"
ESC = b"\x1b"

UrcCallback = Callable[[Urc], Any]


class _Pending:
    """The command waiting for its answer."""

    def __init__(self, command: str | None, expect_prompt: bool) -> None:
        self.command = command
        self.expect_prompt = expect_prompt
        self.body: str | None = None
        self.lines: list[str] = []
        self.future: asyncio.Future[AtResponse] = asyncio.get_running_loop().create_future()

    def resolve(self, result: FinalResult) -> None:
        if not self.future.done():
            self.future.set_result(AtResponse(self.command or "", tuple(self.lines), result))

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class AtChannel:
    """An AT command channel over a `Transport` (see the module docstring)."""

    def __init__(self, transport: Transport, *, default_timeout: float = DEFAULT_TIMEOUT) -> None:
        self.transport = transport
        self.default_timeout = default_timeout
        self._lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._buffer = bytearray()
        self._raw = False
        self._skip_lf = False
        self._raw_buffer = bytearray()
        self._raw_event = asyncio.Event()
        self._held_urc: str | None = None
        self._stray: AtResponse | None = None
        self._urc_callbacks: list[UrcCallback] = []
        self._close_callbacks: list[Callable[[], Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._reader = asyncio.create_task(self._read_loop(), name=f"at-reader {transport.url}")

    @classmethod
    async def open(cls, url: str, **options: Any) -> AtChannel:
        """Open `url` with `open_transport` and start a channel on it."""
        return cls(await open_transport(url), **options)

    @property
    def closed(self) -> bool:
        """True once the transport ended or `close` ran."""
        return self._closed

    @property
    def raw_mode(self) -> bool:
        """True between a CONNECT (or `enter_raw`) and `end_raw`."""
        return self._raw

    def on_unsolicited(self, callback: UrcCallback) -> Callable[[], None]:
        """Call `callback(urc)` for every URC (a coroutine result is run as a task); returns an unsubscriber."""
        self._urc_callbacks.append(callback)
        return lambda: self._urc_callbacks.remove(callback) if callback in self._urc_callbacks else None

    def on_close(self, callback: Callable[[], Any]) -> None:
        """Call `callback()` once when the transport ends."""
        self._close_callbacks.append(callback)

    async def command(self, cmd: str, timeout: float | None = None, expect_prompt: bool = False,
                      body: str | None = None, check: bool = False) -> AtResponse:
        """Send `cmd` + CR and return its answer; with `body`, wait for '> ' and send body + Ctrl-Z."""
        await self._lock.acquire()
        keep_lock = False
        try:
            self._ensure_usable()
            self._stray = None
            pending = self._pending = _Pending(cmd, expect_prompt or body is not None)
            await self.transport.write(cmd.encode() + b"\r")
            response = await self._wait(pending, timeout, cmd)
            if response.result.kind == Final.PROMPT:
                if body is None:
                    keep_lock = True  # send_body / cancel_prompt release it
                    return response
                response = await self._send_body(pending, body, timeout)
        finally:
            if not keep_lock:
                self._pending = None
                self._lock.release()
        return response.raise_for_error() if check else response

    async def send_body(self, body: str, timeout: float | None = None, check: bool = False) -> AtResponse:
        """After `command(..., expect_prompt=True)` gave the prompt: send body + Ctrl-Z, return the answer."""
        pending = self._pending
        if pending is None or not self._lock.locked():
            raise AtError("send_body without a command waiting at the '> ' prompt")
        try:
            response = await self._send_body(pending, body, timeout)
        finally:
            self._pending = None
            self._lock.release()
        return response.raise_for_error() if check else response

    async def cancel_prompt(self, timeout: float | None = None) -> AtResponse:
        """Abort at the '> ' prompt with ESC (TS 27.005 §3.5.1); returns the modem's answer."""
        pending = self._pending
        if pending is None or not self._lock.locked():
            raise AtError("cancel_prompt without a command waiting at the '> ' prompt")
        try:
            pending.future = asyncio.get_running_loop().create_future()
            pending.expect_prompt = False
            await self.transport.write(ESC)
            return await self._wait(pending, timeout, "<ESC>")
        finally:
            self._pending = None
            self._lock.release()

    async def wait_final(self, timeout: float | None = None) -> AtResponse:
        """Wait for a final result code without sending anything (after a data phase)."""
        async with self._lock:
            if self._stray is not None:
                response, self._stray = self._stray, None
                return response
            self._ensure_usable()
            pending = self._pending = _Pending(None, False)
            try:
                return await self._wait(pending, timeout, "<final result>")
            finally:
                self._pending = None

    async def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (data phase, DLE-coded by the caller)."""
        if self._closed:
            raise AtClosed(f"{self.transport.url} is closed")
        await self.transport.write(data)

    def enter_raw(self) -> None:
        """Treat everything received from now on as raw data (CONNECT does this by itself)."""
        self._raw = True
        if self._buffer:
            self._raw_buffer += self._buffer
            self._buffer.clear()
            self._raw_event.set()

    def end_raw(self) -> None:
        """Back to lines; unread raw bytes are parsed as lines (e.g. the OK after DLE ETX)."""
        self._raw = False
        self._skip_lf = False
        leftover = bytes(self._raw_buffer)
        self._raw_buffer.clear()
        self._raw_event.clear()
        if leftover:
            self._feed(leftover)

    async def read_raw(self, n: int | None = None, until: bytes | None = None,
                       timeout: float | None = None) -> bytes:
        """Raw bytes: exactly `n`, or up to and including `until`, or whatever is there (at least one)."""
        limit = self.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            got = self._take_raw(n, until)
            if got is not None:
                return got
            if self._closed:
                raise AtClosed(f"{self.transport.url} closed during raw read")
            self._raw_event.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AtTimeout(f"raw read timed out after {limit}s ({len(self._raw_buffer)} bytes buffered)")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._raw_event.wait(), remaining)

    async def close(self) -> None:
        """Close the transport and stop the reader."""
        await self.transport.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self._finish()

    # --- internals -------------------------------------------------------------------------

    def _ensure_usable(self) -> None:
        if self._closed:
            raise AtClosed(f"{self.transport.url} is closed")
        if self._raw:
            raise AtError("channel is in raw data mode; call end_raw() first")

    async def _wait(self, pending: _Pending, timeout: float | None, what: str) -> AtResponse:
        limit = self.default_timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(pending.future), limit)
        except asyncio.TimeoutError:
            raise AtTimeout(f"no answer to {what!r} within {limit}s (got {pending.lines})") from None

    async def _send_body(self, pending: _Pending, body: str, timeout: float | None) -> AtResponse:
        pending.future = asyncio.get_running_loop().create_future()
        pending.expect_prompt = False
        pending.body = body
        await self.transport.write(body.encode() + CTRL_Z)
        return await self._wait(pending, timeout, f"{pending.command} <body>")

    def _take_raw(self, n: int | None, until: bytes | None) -> bytes | None:
        buf = self._raw_buffer
        if until is not None:
            idx = buf.find(until)
            if idx < 0:
                return None
            end = idx + len(until)
        elif n is not None:
            if len(buf) < n:
                return None
            end = n
        else:
            if not buf:
                return None
            end = len(buf)
        out = bytes(buf[:end])
        del buf[:end]
        return out

    async def _read_loop(self) -> None:
        try:
            while True:
                chunk = await self.transport.read()
                if not chunk:
                    break
                self._feed(chunk)
        finally:
            self._finish()

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._raw_event.set()
        if self._pending is not None:
            self._pending.fail(AtClosed(f"{self.transport.url} closed while waiting for {self._pending.command!r}"))
        for callback in list(self._close_callbacks):
            self._call(callback)

    def _feed(self, chunk: bytes) -> None:
        if self._raw:
            if self._skip_lf and chunk[:1] == b"\n":
                chunk = chunk[1:]
            self._skip_lf = False
            self._raw_buffer += chunk
            self._raw_event.set()
            return
        self._buffer += chunk
        while not self._raw:
            buf = self._buffer
            start = 0
            while start < len(buf) and buf[start] in b"\r\n":
                start += 1
            pending = self._pending
            if pending is not None and pending.expect_prompt and buf[start:start + 1] == b">":
                # TS 27.005 §3.5.1: the prompt is '> ' with no line end after it.
                end = start + 2 if buf[start + 1:start + 2] == b" " else start + 1
                del buf[:end]
                pending.resolve(FinalResult(Final.PROMPT, "> "))
                continue
            ends = [i for i in (buf.find(b"\r", start), buf.find(b"\n", start)) if i >= 0]
            if not ends:
                del buf[:start]
                return
            end = min(ends)
            line = bytes(buf[start:end]).decode("utf-8", "replace")
            lone_cr_at_end = buf[end:] == b"\r"  # its LF may come in the next chunk
            if buf[end:end + 2] == b"\r\n":
                end += 1
            del buf[:end + 1]
            self._handle_line(line)
            if self._raw:
                self._skip_lf = lone_cr_at_end
        if self._buffer:  # CONNECT arrived: the rest is data
            self._raw_buffer += self._buffer
            self._buffer.clear()
            self._raw_event.set()

    def _handle_line(self, line: str) -> None:
        if not line.strip():
            return
        if self._held_urc is not None:
            head, self._held_urc = self._held_urc, None
            self._dispatch(head, line.strip())
            return
        pending = self._pending
        command = None if pending is None else (pending.command or "")
        if pending is not None and pending.body is not None and line.strip().strip("\x1a\x1b> ") == pending.body:
            return  # echo of the PDU/text we sent after the prompt
        try:
            kind = classify(line, command)
        except AtParseError as exc:
            log.warning("unparseable line from %s: %r (%s)", self.transport.url, line, exc)
            kind = LineKind.INTERMEDIATE if pending is not None else LineKind.URC
        if kind == LineKind.ECHO:
            return
        if kind == LineKind.FINAL and pending is not None:
            result = parse_final(line)
            assert result is not None
            pending.resolve(result)
            if result.kind == Final.CONNECT:
                self._raw = True
            return
        if kind == LineKind.INTERMEDIATE and pending is not None:
            pending.lines.append(line.strip())
            return
        result = parse_final(line)
        if result is not None:
            # A final with nothing pending: a late answer, or the end of a data phase; keep the last.
            self._stray = AtResponse("", (), result)
            if result.kind != Final.NO_CARRIER:
                return  # NO CARRIER is also news to listeners (the line dropped)
        try:
            name, args = parse_info(line)
        except AtParseError:
            name, args = line.strip(), []
        if urc_has_body(name, args):
            self._held_urc = line.strip()
            return
        self._dispatch(line.strip(), None)

    def _dispatch(self, line: str, body: str | None) -> None:
        try:
            urc = parse_urc(line, body)
        except AtParseError:
            urc = Urc(line, (), line, body)
        for callback in list(self._urc_callbacks):
            self._call(callback, urc)

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            result = callback(*args)
        except Exception:  # a listener's bug must not kill the reader
            log.exception("URC/close callback failed on %s", self.transport.url)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
