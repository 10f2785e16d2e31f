"""A real ClamAV clamd for tests, on a unix socket in a temp dir, with a local signature database.

There is no freshclam here (no internet), so the database is one body signature (.ndb) for the EICAR test
string, the antivirus industry's public test file: clamd matches it anywhere, MIME-decoded attachments too.
"""
from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.tools import require_tool, stop_server, wait_until_answering

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Appliance.Test.EICAR"


@dataclass
class Clamd:
    """A running clamd; `stop` and `start` again simulate it going away and coming back."""

    root: Path
    proc: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.root / "clamd.sock"

    def start(self, timeout: float = 60.0) -> None:
        """Start clamd and wait until its socket answers PING."""
        binary = require_tool("/usr/sbin/clamd", "clamav-daemon")
        self.proc = subprocess.Popen([binary, "-c", str(self.root / "clamd.conf")], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until_answering("clamd", self.proc, self._answers, self.root / "clamd.log", timeout)

    def _answers(self) -> bool:
        import socket
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self.socket))
                s.sendall(b"zPING\0")
                return s.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            stop_server(self.proc, 15)
            self.proc = None
        self.socket.unlink(missing_ok=True)


def start_clamd(root: Path) -> Clamd:
    """Write a config and the EICAR signature under `root`, start clamd."""
    (root / "db").mkdir(parents=True, exist_ok=True)
    (root / "db" / "test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    (root / "clamd.conf").write_text(
        f"Foreground yes\nLocalSocket {root / 'clamd.sock'}\nDatabaseDirectory {root / 'db'}\n"
        f"LogFile {root / 'clamd.log'}\nTemporaryDirectory {root}\nPidFile {root / 'clamd.pid'}\n"
        "StreamMaxLength 2M\nSelfCheck 3600\n")
    server = Clamd(root)
    server.start()
    return server


def infected_mail(to: str = "support@acme.example", message_id: str = "<virus1@customer.example>") -> bytes:
    """A mail whose attachment is the EICAR test file, base64-encoded as a mail client would send it."""
    b64 = base64.encodebytes(EICAR).decode()
    return (f"From: mallory@customer.example\r\nTo: {to}\r\nSubject: Invoice\r\nMessage-ID: {message_id}\r\n"
            "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n'
            "Please see the invoice.\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
            'Content-Disposition: attachment; filename="invoice.com"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            f"{b64}--b1--\r\n").encode()
