"""The CLI and the real process: first boot output, READY, SIGTERM, kill -9 with nothing lost,
backup and restore."""
from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.appliance.process import REPO, ApplianceProcess
from tests.appliance.webui.helpers import login, login_admin
from tests.pg import free_port


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appliance", *args], capture_output=True, text=True,
                          env={**os.environ, **env, "PYTHONPATH": str(REPO)}, cwd=REPO, timeout=120)


@pytest.fixture
def proc_env(app_env: dict[str, str]) -> dict[str, str]:
    return {**app_env, "APPLIANCE_WEB_PORT": str(free_port())}


def client(data_dir: Path, port: int) -> aiohttp.ClientSession:
    ctx = ssl.create_default_context(cafile=str(data_dir / "tls" / "cert.pem"))
    return aiohttp.ClientSession(base_url=f"https://localhost:{port}", connector=aiohttp.TCPConnector(ssl=ctx))


def test_init_prints_password_once_and_refuses_twice(proc_env) -> None:
    first = cli(proc_env, "init")
    assert first.returncode == 0, first.stderr
    match = re.search(r"^admin password: (\S+)$", first.stdout, re.M)
    assert match and len(match.group(1)) >= 12
    assert re.search(r"fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}", first.stdout)
    data = Path(proc_env["APPLIANCE_DATA_DIR"])
    for path in ("appliance.toml", "tls/cert.pem", "tls/key.pem", "keys/store.key", "keys/session.key"):
        assert (data / path).exists(), path
    assert oct((data / "tls/key.pem").stat().st_mode)[-3:] == "600"
    assert match.group(1) not in (data / "appliance.toml").read_text()
    again = cli(proc_env, "init")
    assert again.returncode == 1 and "already initialised" in again.stdout
    assert "admin password:" not in again.stdout
    assert cli(proc_env, "init", "--if-needed").returncode == 0


def test_version_and_commands_on_an_uninitialised_data_dir(proc_env) -> None:
    assert cli(proc_env, "version").stdout.startswith("appliance ")
    for command in ("console", "run"):
        out = cli(proc_env, command)
        assert out.returncode == 1 and "not initialised" in out.stderr and "Traceback" not in out.stderr


async def test_kill_9_then_run_again_loses_nothing(proc_env, tmp_path: Path) -> None:
    boot = cli(proc_env, "init")
    password = re.search(r"^admin password: (\S+)$", boot.stdout, re.M).group(1)
    data, port = Path(proc_env["APPLIANCE_DATA_DIR"]), int(proc_env["APPLIANCE_WEB_PORT"])
    proc = ApplianceProcess(proc_env, tmp_path)
    proc.wait_ready()
    async with client(data, port) as http:
        await login_admin(http, password, new="Survives-Kill-9")  # acknowledged write (HTTP 302)
    proc.kill9()
    proc = ApplianceProcess(proc_env, tmp_path)
    proc.wait_ready()
    async with client(data, port) as http:
        assert (await login(http, "admin", "Survives-Kill-9")).headers["Location"] == "/admin"
        async with http.get("/healthz") as r:
            assert (await r.json())["services"]["webui"]["state"] == "running"
    assert proc.terminate() == 0


def test_reset_admin_password_gives_a_new_one_time_password(proc_env) -> None:
    cli(proc_env, "init")
    out = cli(proc_env, "reset-admin-password")
    assert out.returncode == 0 and re.search(r"^admin password: \S+$", out.stdout, re.M)


async def test_backup_and_restore_round_trip(proc_env, tmp_path: Path) -> None:
    boot = cli(proc_env, "init")
    password = re.search(r"^admin password: (\S+)$", boot.stdout, re.M).group(1)
    data, port = Path(proc_env["APPLIANCE_DATA_DIR"]), int(proc_env["APPLIANCE_WEB_PORT"])
    proc = ApplianceProcess(proc_env, tmp_path)
    proc.wait_ready()
    async with client(data, port) as http:
        await login_admin(http, password, new="Before-Backup-1")
    backup = cli(proc_env, "backup", "--dest", str(tmp_path / "bk"))  # while running: online backup
    assert backup.returncode == 0, backup.stderr
    archive = Path(re.search(r"backup written: (\S+)", backup.stdout).group(1))
    async with client(data, port) as http:
        await login(http, "admin", "Before-Backup-1")
        from tests.appliance.webui.helpers import csrf_from
        token = await csrf_from(http, "/account/password")
        await http.post("/account/password", data={"current_password": "Before-Backup-1",
                                                   "new_password": "After-Backup-2", "repeat": "After-Backup-2",
                                                   "csrf_token": token})
    assert proc.terminate() == 0
    restored = cli(proc_env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    proc = ApplianceProcess(proc_env, tmp_path)
    proc.wait_ready()
    async with client(data, port) as http:
        assert (await login(http, "admin", "Before-Backup-1")).status == 302
    proc.terminate()


def test_restore_refuses_garbage(proc_env, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball")
    out = cli(proc_env, "restore", str(bad))
    assert out.returncode == 1 and "not a readable backup" in out.stderr
