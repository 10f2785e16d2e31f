"""Appliance process figures: start → READY, idle memory with every service up, idle loop lag."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import ssl
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable

import psutil

from bench.figure import figure
from tests.appliance.process import REPO, ApplianceProcess
from tests.pg import free_port

IDLE_SETTLE_S = 3.0


def figures() -> Iterable[dict]:
    """appliance.ready_s, appliance.idle_rss_mb, appliance.loop_lag_p99_ms."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        env = {"APPLIANCE_DATA_DIR": str(work / "data"), "APPLIANCE_WEB_PORT": str(port),
               "APPLIANCE_WEB_HOST": "127.0.0.1", "APPLIANCE_SNMP_PORT": str(free_port()),
               "APPLIANCE_MAIL_SMTP_PORT": str(free_port())}
        boot = subprocess.run([sys.executable, "-m", "appliance", "init"], env={**os.environ, **env},
                              cwd=REPO, capture_output=True, text=True, check=True)
        password = re.search(r"^admin password: (\S+)$", boot.stdout, re.M).group(1)
        # Baseline for start-up: the bare interpreter importing nothing of ours.
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare = time.monotonic() - t0
        proc = ApplianceProcess(env, work)
        ready = proc.wait_ready()
        yield figure("appliance.ready_s", ready, "s", baseline=bare, goal="< 2")
        time.sleep(IDLE_SETTLE_S)
        rss = psutil.Process(proc.proc.pid).memory_info().rss / 1e6
        yield figure("appliance.idle_rss_mb", rss, "MB", goal="< 120")
        lag = _loop_lag(port, work, password)
        yield figure("appliance.loop_lag_p99_ms", lag, "ms")
        proc.terminate()


def _loop_lag(port: int, work: Path, password: str) -> float:
    # Read the figure the appliance exports itself, through the admin's /metrics (after the forced change).
    ctx = ssl.create_default_context(cafile=str(work / "data" / "tls" / "cert.pem"))
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                         urllib.request.HTTPCookieProcessor())
    base = f"https://localhost:{port}"
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": "admin", "password": password, "csrf_token": token}).encode()
    page = opener.open(f"{base}/login", data).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    new = "Bench-Password-1"
    data = urllib.parse.urlencode({"current_password": password, "new_password": new, "repeat": new,
                                   "csrf_token": token}).encode()
    opener.open(f"{base}/account/password", data).read()
    text = opener.open(f"{base}/metrics").read().decode()
    return float(re.search(r"^appliance_appliance_loop_lag_p99_ms (\S+)$", text, re.M).group(1))
