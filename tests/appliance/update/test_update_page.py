"""The admin console's update upload: verified at once, refused with a reason (nothing kept), or staged;
then `appliance update --staged` installs it and the page shows the result."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from appliance.update.bundle import write_bundle
from appliance.update.staging import STAGED
from tests.appliance.process import REPO
from tests.appliance.update.keys import key_pair, payload
from tests.appliance.webui.helpers import csrf_from, login_admin

RUNS_THIS_CHECKOUT = f'#!/bin/sh\nexec "{sys.executable}" -m appliance "$@"\n'


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'appliance.db'}"


@pytest.fixture
def keys(tmp_path: Path, app_env: dict[str, str]):
    """Point the running appliance's verifier at a key pair made for this test."""
    private, pub = key_pair(tmp_path)
    root = tmp_path / "opt"
    payload(root / "versions" / "0.1.0", RUNS_THIS_CHECKOUT)
    (root / "current").symlink_to("versions/0.1.0")
    app_env.update({"APPLIANCE_UPDATE_PUBLIC_KEY": str(pub), "APPLIANCE_UPDATE_ROOT": str(root),
                    "APPLIANCE_UPDATE_MANAGER": "trial", "APPLIANCE_SNMP_PORT": "0"})
    return private, root


async def upload(http: aiohttp.ClientSession, bundle: Path) -> tuple[int, str]:
    token = await csrf_from(http, "/admin/update")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("bundle", bundle.read_bytes(), filename=bundle.name, content_type="application/octet-stream")
    async with http.post("/admin/update", data=form) as r:
        return r.status, await r.text()


async def test_upload_refuses_bad_bundles_and_stages_a_good_one(keys, appliance, http, first_boot,
                                                                tmp_path: Path) -> None:
    private, root = keys
    await login_admin(http, first_boot.admin_password)
    async with http.get("/admin/update") as r:
        assert "Installed: 0.1.0" in await r.text()
    updates = first_boot.root / "updates"
    other = key_pair(tmp_path / "o" if (tmp_path / "o").mkdir() is None else tmp_path)[0]
    cases = [(write_bundle(payload(tmp_path / "a", "x"), "0.2.0", other, tmp_path / "a.update"), "bad signature"),
             (write_bundle(payload(tmp_path / "b", "x"), "0.0.9", private, tmp_path / "b.update"), "not newer"),
             (tmp_path / "c.update", "truncated")]
    cases[2][0].write_bytes(cases[0][0].read_bytes()[:300])
    for bundle, why in cases:
        status, page = await upload(http, bundle)
        assert status == 422 and why in page and "Nothing was changed." in page, (why, page)
        assert not updates.exists() or list(updates.iterdir()) == []
    good = write_bundle(payload(tmp_path / "g", RUNS_THIS_CHECKOUT), "0.2.0", private, tmp_path / "g.update")
    status, page = await upload(http, good)
    assert status == 200 and "Version 0.2.0 is verified" in page
    assert (updates / STAGED).read_bytes() == good.read_bytes()
    assert os.readlink(root / "current") == "versions/0.1.0"  # staging alone installs nothing


def test_install_staged_records_the_result(keys, first_boot, app_env, tmp_path: Path) -> None:
    private, root = keys
    updates = first_boot.root / "updates"
    updates.mkdir()
    write_bundle(payload(tmp_path / "g", RUNS_THIS_CHECKOUT), "0.2.0", private, updates / STAGED)
    out = subprocess.run([sys.executable, "-m", "appliance", "update", "--staged"], capture_output=True,
                         text=True, env={**os.environ, **app_env, "PYTHONPATH": str(REPO)}, cwd=REPO, timeout=240)
    assert out.returncode == 0, out.stderr
    assert os.readlink(root / "current") == "versions/0.2.0"
    assert not (updates / STAGED).exists()
    assert '"ok": true' in (updates / "last-result.json").read_text()
