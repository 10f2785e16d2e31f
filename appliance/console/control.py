"""The local control socket: how a console (in this process or `appliance console` on a getty) reaches
the running appliance.

A unix stream socket at `<data>/run/control.sock` (mode 0600 in a 0700 directory, so only root and the
appliance user reach it). One JSON request line, one JSON answer line, then the server closes.
Requests: `status`, `restart {name}`, `logs {lines}`, `testable`, `diagnose {service, item}`,
`reset-admin-password`.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any, Awaitable, Callable

from appliance.console.errors import ControlError, ControlUnavailable

log = logging.getLogger(__name__)

SOCKET_NAME = Path("run") / "control.sock"
REQUEST_MAX = 4096
ANSWER_MAX = 4 * 1024 * 1024
CLIENT_TIMEOUT_S = 30.0
UNIX_PATH_MAX = 107  # sun_path is 108 bytes with the NUL (unix(7))
LOG_LINES_KEPT = 500

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def socket_path(root: Path) -> Path:
    """The control socket of a data directory."""
    return root / SOCKET_NAME


class LogRing(logging.Handler):
    """Keeps the last log lines in memory so the console can show them without a log file."""

    def __init__(self, keep: int = LOG_LINES_KEPT) -> None:
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # logging must never raise into the code that logs
            self.handleError(record)

    def tail(self, n: int) -> list[str]:
        """The last n lines."""
        return list(self.lines)[-n:] if n > 0 else []


class ControlServer:
    """Serves requests on the control socket with a table of async handlers."""

    def __init__(self, path: Path, handlers: dict[str, Handler]) -> None:
        self.path = path
        self.handlers = handlers
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Bind the socket (replacing a stale one left by a crash)."""
        if len(str(self.path).encode()) > UNIX_PATH_MAX:
            raise ControlError(f"control socket path too long for a unix socket: {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        self.path.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(self._serve, str(self.path), limit=REQUEST_MAX)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        """Close the socket and remove its file."""
        if self._server:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            answer = await self.answer(line)
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError, ValueError):
            pass  # a client that hangs up or sends too much gets nothing; the server goes on
        finally:
            writer.close()

    async def answer(self, line: bytes) -> dict[str, Any]:
        """The answer to one request line."""
        try:
            request = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "the request is not JSON"}
        if not isinstance(request, dict) or request.get("op") not in self.handlers:
            return {"ok": False, "error": f"unknown request; known: {', '.join(sorted(self.handlers))}"}
        try:
            return {"ok": True, **await self.handlers[request["op"]](request)}
        except (ControlError, LookupError, ValueError) as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # one failing request must not take the console's lifeline down
            log.exception("control request %s failed", request.get("op"))
            return {"ok": False, "error": f"internal error: {exc!r}"}


class ControlClient:
    """Blocking client used by the console's backend (it runs in a worker thread or its own process)."""

    def __init__(self, path: Path, timeout: float = CLIENT_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send one request; raises ControlUnavailable when nothing listens, ControlError on refusal."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(str(self.path))
                sock.sendall(json.dumps({"op": op, **args}).encode() + b"\n")
                data = bytearray()
                while not data.endswith(b"\n") and len(data) < ANSWER_MAX:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except (FileNotFoundError, ConnectionRefusedError):
            raise ControlUnavailable("the appliance is not running") from None
        except OSError as exc:
            raise ControlUnavailable(f"the appliance does not answer ({exc.strerror or exc})") from None
        try:
            answer = json.loads(bytes(data))
        except ValueError:
            raise ControlUnavailable("the appliance sent a garbled answer") from None
        if not answer.get("ok"):
            raise ControlError(answer.get("error", "refused"))
        return answer

    def available(self) -> bool:
        """True when the running appliance answers."""
        try:
            self.request("status")
        except (ControlUnavailable, ControlError):
            return False
        return True
