"""SNMP agent figures: a full net-snmp walk of our subtree over v3 authPriv, and its size.

snmp.walk_s is the median wall time of `snmpwalk` (GETNEXT, one round trip per object, SHA-256/AES)
over APPLIANCE-MIB; its baseline is one `snmpget` with the same credentials, measured in the same
run, so the ratio says how much the walk costs beyond starting the tool and discovering the engine.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable

from appliance.snmp import const
from bench.figure import figure
from tests.appliance.process import REPO, ApplianceProcess
from tests.pg import free_port

ROUNDS = 5
SUBTREE = ".".join(map(str, const.APPLIANCE))


def _free_udp_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _drain(proc: ApplianceProcess, stop: threading.Event) -> None:
    # Keep reading sd_notify datagrams so STATUS= updates never fill the socket's queue.
    proc.listener.settimeout(0.2)
    while not stop.is_set():
        try:
            proc.listener.recv(65536)
        except OSError:
            continue


def _timed(args: list[str]) -> tuple[float, str]:
    t0 = time.monotonic()
    out = subprocess.run(args, capture_output=True, text=True, check=True,
                         env={**os.environ, "SNMPCONFPATH": "/nonexistent"}).stdout
    return time.monotonic() - t0, out


def figures() -> Iterable[dict]:
    """snmp.walk_s, snmp.walk_objects, snmp.bulkwalk_s."""
    walk, get, bulk = (shutil.which(t) for t in ("snmpwalk", "snmpget", "snmpbulkwalk"))
    if not (walk and get and bulk):
        raise RuntimeError("net-snmp client tools missing (Debian package snmp)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = _free_udp_port()
        env = {"APPLIANCE_DATA_DIR": str(work / "data"), "APPLIANCE_WEB_PORT": str(free_port()),
               "APPLIANCE_WEB_HOST": "127.0.0.1", "APPLIANCE_SNMP_PORT": str(port),
               "APPLIANCE_SNMP_HOST": "127.0.0.1", "APPLIANCE_MAIL_SMTP_PORT": str(free_port())}
        subprocess.run([sys.executable, "-m", "appliance", "init"], env={**os.environ, **env}, cwd=REPO,
                       capture_output=True, text=True, check=True)
        creds = json.loads((work / "data" / "keys" / "snmp.json").read_text())
        security = ["-v3", "-l", "authPriv", "-u", creds["user"], "-a", "SHA-256", "-A", creds["auth"],
                    "-x", "AES", "-X", creds["priv"], "-On", "-t", "3", "-r", "1", f"udp:127.0.0.1:{port}"]
        proc = ApplianceProcess(env, work)
        stop = threading.Event()
        try:
            proc.wait_ready()
            threading.Thread(target=_drain, args=(proc, stop), daemon=True).start()
            time.sleep(1.0)  # let every service settle
            _timed([walk, *security, SUBTREE])  # warm: the first walk builds caches on both sides
            walks = [_timed([walk, *security, SUBTREE]) for _ in range(ROUNDS)]
            gets = [_timed([get, *security, "1.3.6.1.2.1.1.3.0"])[0] for _ in range(ROUNDS)]
            bulks = [_timed([bulk, *security, "-Cr25", SUBTREE])[0] for _ in range(ROUNDS)]
        finally:
            stop.set()
            proc.terminate()
        objects = len([line for line in walks[-1][1].splitlines() if " = " in line])
        yield figure("snmp.walk_s", statistics.median(t for t, _ in walks), "s",
                     baseline=statistics.median(gets), goal="< 0.5")
        yield figure("snmp.walk_objects", objects, "objects")
        yield figure("snmp.bulkwalk_s", statistics.median(bulks), "s", baseline=statistics.median(gets))
