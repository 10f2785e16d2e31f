"""`appliance update FILE`: installs beside the running version, backs up first, rolls back a version that
never reaches READY, and a refused bundle changes nothing. Runs the real CLI and real processes."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.update.bundle import write_bundle
from tests.appliance.process import REPO
from tests.appliance.update.keys import key_pair, payload

RUNS_THIS_CHECKOUT = f'#!/bin/sh\nexec "{sys.executable}" -m appliance "$@"\n'


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
def site(tmp_path: Path, first_boot, app_env):
    """An installed 0.1.0 under <tmp>/opt with `current`, a key pair, and the environment for the CLI."""
    root = tmp_path / "opt"
    payload(root / "versions" / "0.1.0", RUNS_THIS_CHECKOUT)
    (root / "current").symlink_to("versions/0.1.0")
    private, pub = key_pair(tmp_path)
    env = {**app_env, "APPLIANCE_UPDATE_ROOT": str(root), "APPLIANCE_UPDATE_PUBLIC_KEY": str(pub),
           "APPLIANCE_UPDATE_MANAGER": "trial", "APPLIANCE_UPDATE_READY_TIMEOUT_S": "60",
           "APPLIANCE_SNMP_PORT": "0", "PYTHONPATH": str(REPO)}
    return root, private, env


def update(env: dict[str, str], bundle: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appliance", "update", str(bundle)], capture_output=True,
                          text=True, env={**os.environ, **env}, cwd=REPO, timeout=240)


def state(root: Path, data: Path) -> tuple:
    """Everything an update may change: versions, the link, backups."""
    return (sorted(p.name for p in (root / "versions").iterdir()), os.readlink(root / "current"),
            sorted(p.name for p in (data / "backups").iterdir()))


def test_good_update_installs_beside_and_switches(site, tmp_path: Path, first_boot) -> None:
    root, private, env = site
    bundle = write_bundle(payload(tmp_path / "v2", RUNS_THIS_CHECKOUT), "0.2.0", private, tmp_path / "v2.update")
    out = update(env, bundle)
    assert out.returncode == 0, out.stderr
    assert "updated 0.1.0 -> 0.2.0" in out.stdout
    versions, current, backups = state(root, first_boot.root)
    assert versions == ["0.1.0", "0.2.0"] and current == "versions/0.2.0" and len(backups) == 1
    assert (root / "current" / "lib" / "alias.txt").read_text() == "payload data\n"


def test_version_that_never_gets_ready_is_rolled_back(site, tmp_path: Path, first_boot) -> None:
    root, private, env = site
    db = Path(env["APPLIANCE_DATABASE_URL"][len("sqlite:///"):])
    # A "new version" that migrates the database badly and then hangs before READY.
    broken = (f'#!/bin/sh\n"{sys.executable}" -c "import sqlite3; c = sqlite3.connect(\'{db}\'); '
              f'c.execute(\'create table broken_migration (x)\'); c.commit()"\nexec sleep 120\n')
    bundle = write_bundle(payload(tmp_path / "v3", broken), "0.3.0", private, tmp_path / "v3.update")
    out = update({**env, "APPLIANCE_UPDATE_READY_TIMEOUT_S": "5"}, bundle)
    assert out.returncode == 1
    assert "did not reach READY within 5 s: rolled back to 0.1.0" in out.stderr
    versions, current, backups = state(root, first_boot.root)
    assert versions == ["0.1.0"] and current == "versions/0.1.0" and len(backups) == 1
    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master")}
    assert "broken_migration" not in tables and "user" in tables  # the backup was restored


@pytest.mark.parametrize("case", ["bad signature", "not newer", "truncated"])
def test_refused_bundles_change_nothing(site, tmp_path: Path, first_boot, case: str) -> None:
    root, private, env = site
    before = state(root, first_boot.root)
    signer = key_pair(tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path)[0] \
        if case == "bad signature" else private
    version = "0.1.0" if case == "not newer" else "0.2.0"
    bundle = write_bundle(payload(tmp_path / "p", RUNS_THIS_CHECKOUT), version, signer, tmp_path / "b.update")
    if case == "truncated":
        bundle.write_bytes(bundle.read_bytes()[:-40])
    out = update(env, bundle)
    assert out.returncode == 1 and "update refused:" in out.stderr and "Nothing was changed." in out.stderr
    assert case in out.stderr
    assert state(root, first_boot.root) == before
