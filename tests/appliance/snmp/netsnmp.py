"""Driving the real net-snmp tools (snmpget, snmpwalk, snmptable, snmptrapd) from async tests."""
from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from tests.tools import require_tool

REPO = Path(__file__).resolve().parents[3]
MIB_ARGS = ["-M", f"+{REPO / 'appliance' / 'mib'}:{REPO / 'tests' / 'data' / 'snmp' / 'mibs'}",
            "-m", "SNMPv2-MIB:APPLIANCE-MIB"]
QUICK = ["-t", "1", "-r", "1"]  # a refused request must not take net-snmp's default 6 s


def free_udp_port() -> int:
    """A UDP port nobody is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class V3:
    """Credentials as net-snmp's -u/-a/-A/-x/-X want them."""

    user: str
    auth: str
    priv: str

    def args(self, level: str = "authPriv") -> list[str]:
        """Command-line security arguments."""
        out = ["-v3", "-l", level, "-u", self.user]
        if level in ("authNoPriv", "authPriv"):
            out += ["-a", "SHA-256", "-A", self.auth]
        if level == "authPriv":
            out += ["-x", "AES", "-X", self.priv]
        return out


def v2c(community: str) -> list[str]:
    """Command-line arguments for SNMPv2c."""
    return ["-v2c", "-c", community]


@dataclass(frozen=True)
class Result:
    """What a net-snmp command printed."""

    code: int
    out: str
    err: str


async def run(tool: str, security: list[str], port: int, *args: str, mibs: bool = True,
              timeout: float = 20.0) -> Result:
    """Run one net-snmp client command against 127.0.0.1:port without blocking the loop."""
    path = require_tool(tool, "snmp")
    env = {**os.environ, "SNMP_PERSISTENT_DIR": "/tmp/appliance-test-snmp", "SNMPCONFPATH": "/nonexistent"}
    proc = await asyncio.create_subprocess_exec(
        path, *security, *QUICK, *(MIB_ARGS if mibs else []), f"udp:127.0.0.1:{port}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return Result(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))


class Trapd:
    """snmptrapd on a free UDP port, logging received notifications to a file."""

    def __init__(self, workdir: Path, config_lines: list[str]) -> None:
        self.path = require_tool("snmptrapd", "snmptrapd")
        self.port = free_udp_port()
        self.workdir = workdir
        self.conf = workdir / "snmptrapd.conf"
        self.conf.write_text("\n".join(["disableAuthorization yes", *config_lines]) + "\n")
        self.log = workdir / "traps.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start and wait until it listens."""
        persist = self.workdir / "persist"
        persist.mkdir(exist_ok=True)
        env = {**os.environ, "SNMP_PERSISTENT_DIR": str(persist)}
        self.proc = await asyncio.create_subprocess_exec(
            self.path, "-f", "-C", "-c", str(self.conf), "-n", "-Lf", str(self.log), *MIB_ARGS,
            f"udp:127.0.0.1:{self.port}", stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.log.exists() and "NET-SNMP version" in self.log.read_text(errors="replace"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("snmptrapd did not start: " + self.text())

    def text(self) -> str:
        """Everything logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def wait_for(self, pattern: str, timeout: float = 10.0, after: int = 0) -> re.Match:
        """Wait until the log (from offset `after`) matches `pattern`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text()[after:], re.S)
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no notification matching {pattern!r}; snmptrapd log:\n{self.text()}")

    async def stop(self) -> None:
        """Terminate."""
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
