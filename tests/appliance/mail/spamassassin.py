"""A real SpamAssassin spamd for tests, on a free local port in a temp dir, with the rules Debian ships.

No network rules (--local, no DNS, Bayes off) and no sa-update, so the score is the same offline every run.
GTUBE, SpamAssassin's public test string, scores about 1000 on the shipped rules.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.pg import free_port
from tests.tools import require_tool, stop_server, wait_until_answering

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
LOCAL_CF = ("use_bayes 0\nbayes_auto_learn 0\nskip_rbl_checks 1\ndns_available no\nuse_razor2 0\nuse_pyzor 0\n"
            "required_score 5.0\n")


@dataclass
class Spamd:
    """A running spamd; `stop` and `start` again simulate it going away and coming back."""

    root: Path
    port: int
    proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        """Start spamd in the foreground and wait until it answers PING."""
        binary = require_tool("/usr/sbin/spamd", "spamassassin")
        user = ["-u", "nobody"] if os.geteuid() == 0 else []  # spamd will not serve as root
        log = (self.root / "spamd.log").open("ab")
        self.proc = subprocess.Popen(
            [binary, "--local", "--siteconfigpath", str(self.root), "--nouser-config", "--listen", "127.0.0.1",
             "--port", str(self.port), "--allowed-ips", "127.0.0.1", "--pidfile", str(self.root / "spamd.pid"),
             "--max-children", "2", "--syslog", "stderr", *user], stdout=log, stderr=log)
        log.close()
        wait_until_answering("spamd", self.proc, self._answers, self.root / "spamd.log", timeout, every=0.2)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"PING SPAMC/1.5\r\n\r\n")
                return b"PONG" in s.recv(64)
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc, 20)
            self.proc = None


def start_spamd(root: Path) -> Spamd:
    """A tiny site config under `root` (Debian's plugin .pre files plus local.cf), then spamd on a free port."""
    root.chmod(0o755)  # spamd's children run as nobody when the tests run as root
    for pre in Path("/etc/spamassassin").glob("*.pre"):
        shutil.copy(pre, root / pre.name)
    (root / "local.cf").write_text(LOCAL_CF)
    server = Spamd(root, free_port())
    server.start()
    return server
