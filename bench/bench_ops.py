"""Operations figures: verifying a signed update bundle (MB/s, against plain SHA-256 of the same bytes as the
baseline) and console screens per second through the menu engine."""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.figure import figure

PAYLOAD_MB = 24
SCREENS = 2000


def _verify_figures(work: Path) -> Iterable[dict]:
    from appliance.update.bundle import verify_and_extract, write_bundle
    payload = work / "payload"
    payload.mkdir()
    for i in range(PAYLOAD_MB // 4):
        (payload / f"lib{i}.so").write_bytes(os.urandom(4 * 1024 * 1024))
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    bundle = write_bundle(payload, "9.0.0", key, work / "b.update")
    started = time.perf_counter()
    verify_and_extract(bundle, pub, "0.1.0", None)
    verify_s = time.perf_counter() - started
    started = time.perf_counter()
    for path in payload.iterdir():
        hashlib.sha256(path.read_bytes()).hexdigest()
    hash_s = time.perf_counter() - started
    yield figure("update.verify_mb_s", PAYLOAD_MB / verify_s, "MB/s", baseline=PAYLOAD_MB / hash_s,
                 note="baseline: bare SHA-256 of the payload files")


class _Backend:
    hostname = "bench"

    def check_password(self, pw: str):
        from appliance.console.auth import AuthResult
        return AuthResult(True)

    def status(self) -> dict:
        services = [{"name": f"svc{i}", "state": "running", "restarts": i, "uptime_s": 100.0 * i,
                     "last_error": "", "health": {"port": i}} for i in range(11)]
        return {"version": "0.1.0", "web_port": 8443, "services": services,
                "metrics": {"appliance.uptime_s": 1000.0, "queue.q1.waiting": 2}}


def _console_figures() -> Iterable[dict]:
    from appliance.console.menu import console_session
    dialogue = console_session(_Backend())
    next(dialogue)
    dialogue.send("pw")
    started = time.perf_counter()
    for _ in range(SCREENS // 2):
        dialogue.send("1")   # the status screen
        dialogue.send("q")   # back to the main menu
    elapsed = time.perf_counter() - started
    yield figure("console.screens_per_s", SCREENS / elapsed, "screens/s",
                 note="status screen and main menu alternately, 11 services")


def figures() -> Iterable[dict]:
    """update.verify_mb_s, console.screens_per_s."""
    with tempfile.TemporaryDirectory() as tmp:
        yield from _verify_figures(Path(tmp))
    yield from _console_figures()
