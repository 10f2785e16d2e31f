"""Running `python -m appliance` as a real process, the way systemd does, with READY=1 over NOTIFY_SOCKET."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class ApplianceProcess:
    """`python -m appliance run` with a notify socket; `wait_ready()` returns seconds to READY."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        self.sock_path = workdir / f"notify-{time.monotonic_ns()}.sock"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.listener.bind(str(self.sock_path))
        self.env["NOTIFY_SOCKET"] = str(self.sock_path)
        self.log = open(workdir / "appliance.log", "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "appliance", "run"], env=self.env, cwd=REPO,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30.0) -> float:
        """Block until READY=1; returns seconds since start."""
        self.listener.settimeout(timeout)
        while True:
            msg = self.listener.recv(65536).decode()
            if msg.startswith("READY=1"):
                return time.monotonic() - self.started

    def kill9(self) -> None:
        """SIGKILL, as a power cut would do to the process."""
        self.proc.kill()
        self.proc.wait(10)
        self.close()

    def terminate(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        self.proc.terminate()
        code = self.proc.wait(30)
        self.close()
        return code

    def close(self) -> None:
        """Release the socket and log file."""
        self.listener.close()
        self.sock_path.unlink(missing_ok=True)
        self.log.close()
