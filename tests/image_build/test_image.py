"""`make image`: the pyinstaller bundle runs version, init and run (READY, /healthz), and the Debian
package installs it under /opt/appliance with the units and a maintainer script for the system user."""
from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.pg import free_port
from tests.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "appliance"
EXE = BUNDLE / "appliance"
BUILD_TIMEOUT_S = 900

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def image() -> Path:
    """Build (or reuse, when no source changed) the bundle and the package."""
    require_tool("dpkg-deb", "dpkg")
    started = time.monotonic()
    proc = subprocess.run(["make", "image"], cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    match = re.search(r"^package: (\S+\.deb)$", proc.stdout, re.M)
    assert match, proc.stdout
    print(f"make image took {time.monotonic() - started:.0f} s")
    return Path(match.group(1))


def bundle_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APPLIANCE_", "PYTHON"))}
    return {**env, "APPLIANCE_DATA_DIR": str(tmp_path / "data"), "APPLIANCE_WEB_HOST": "127.0.0.1",
            "APPLIANCE_WEB_PORT": str(free_port()), "APPLIANCE_SNMP_PORT": "0"}


def test_bundle_carries_its_data_files(image: Path) -> None:
    internal = BUNDLE / "_internal"
    for rel in ("appliance/webui/templates/base.html", "appliance/webui/static/app.css",
                "appliance/models/migrations/0001_initial.py", "update_key.pub"):
        assert (internal / rel).is_file(), rel
    if (REPO / "appliance" / "mib").is_dir():
        mibs = [p.name for p in (REPO / "appliance" / "mib").iterdir() if p.is_file()]
        assert all((internal / "appliance" / "mib" / name).is_file() for name in mibs)


def test_bundle_runs_version_init_run_and_answers_healthz(image: Path, tmp_path: Path) -> None:
    env = bundle_env(tmp_path)
    version = subprocess.run([str(EXE), "version"], capture_output=True, text=True, env=env, timeout=120)
    assert version.returncode == 0 and re.fullmatch(r"appliance \d+\.\d+\.\d+\n", version.stdout)
    init = subprocess.run([str(EXE), "init"], capture_output=True, text=True, env=env, timeout=120)
    assert init.returncode == 0, init.stderr
    assert re.search(r"^admin password: \S+$", init.stdout, re.M)
    assert re.search(r"^console password: \S+$", init.stdout, re.M)
    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(90)
    with open(tmp_path / "run.log", "wb") as log:
        proc = subprocess.Popen([str(EXE), "run"], env={**env, "NOTIFY_SOCKET": str(sock_path)}, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        while not listener.recv(65536).decode().startswith("READY=1"):
            pass
        ctx = ssl.create_default_context(cafile=str(tmp_path / "data" / "tls" / "cert.pem"))
        with urllib.request.urlopen(f"https://localhost:{env['APPLIANCE_WEB_PORT']}/healthz", context=ctx,
                                    timeout=30) as resp:
            health = json.loads(resp.read())
        assert health["services"]["webui"]["state"] == "running"
        assert health["services"]["console"]["state"] == "running"
        with urllib.request.urlopen(f"https://localhost:{env['APPLIANCE_WEB_PORT']}/login", context=ctx,
                                    timeout=30) as resp:
            assert b"csrf_token" in resp.read()  # templates found inside the bundle
    finally:
        proc.terminate()
        assert proc.wait(60) == 0, (tmp_path / "run.log").read_text()[-3000:]
        listener.close()


def test_debian_package_layout(image: Path) -> None:
    info = subprocess.run(["dpkg-deb", "--info", str(image)], capture_output=True, text=True, check=True).stdout
    assert "Package: appliance" in info and "postinst" in info
    listing = subprocess.run(["dpkg-deb", "--contents", str(image)], capture_output=True, text=True,
                             check=True).stdout
    for entry in ("./opt/appliance/appliance -> current/appliance", "./opt/appliance/current -> versions/",
                  "./opt/appliance/update_key.pub", "./lib/systemd/system/appliance.service",
                  "./lib/systemd/system/appliance-console@.service", "./lib/systemd/system/appliance-update.path"):
        assert entry in listing, entry
    postinst = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(image)], capture_output=True, check=True).stdout
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(postinst)) as tar:
        script = tar.extractfile("./postinst").read().decode()
    assert "useradd --system" in script and "/var/lib/appliance" in script
