"""sd_notify(3) over the NOTIFY_SOCKET datagram socket; a no-op outside systemd.

Twelve lines of protocol do not justify a dependency: the message is `KEY=VALUE` lines in one datagram.
"""
from __future__ import annotations

import os
import socket


class Notifier:
    """Sends READY=1, STATUS=…, WATCHDOG=1, STOPPING=1 to systemd when NOTIFY_SOCKET is set."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        self.address = env.get("NOTIFY_SOCKET", "")
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        owned = not pid or pid == str(os.getpid())
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and owned else 0.0
        self.sent: list[str] = []  # kept for tests and the console's diagnostics

    def notify(self, message: str) -> None:
        """Send one notification (silently nothing without systemd)."""
        self.sent.append(message)
        if not self.address:
            return
        addr = self.address
        if addr.startswith("@"):  # abstract namespace socket
            addr = "\0" + addr[1:]
        # Non-blocking: a notify socket nobody reads (a stopped harness, a wedged systemd) must never block
        # the supervisor; a lost notification costs less than a hung appliance.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK) as sock:
            try:
                sock.connect(addr)
                sock.send(message.encode())
            except OSError:
                pass  # systemd gone (shutdown) or its queue full: nothing useful to do
