"""Backups in the admin console: list, back up now with progress, download, delete; admins only."""
from __future__ import annotations

import asyncio
import io
import re
import tarfile

from tests.appliance.webui.helpers import csrf_from, login_admin

NAME_RE = re.compile(r"backup-\d{8}-\d{6}\.tar\.gz")


async def wait_finished(http) -> dict:
    for _ in range(200):
        async with http.get("/admin/backups/progress.json") as r:
            progress = await r.json()
        if not progress["running"]:
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError("backup never finished")


async def test_back_up_now_list_download_delete(appliance, http, first_boot) -> None:
    await login_admin(http, first_boot.admin_password)
    async with http.get("/admin/backups") as r:
        page = await r.text()
    assert r.status == 200 and "No backups yet." in page and "appliance restore FILE" in page
    async with http.get("/admin") as r:
        assert 'href="/admin/backups"' in await r.text()  # reached from the services page
    token = await csrf_from(http, "/admin/backups")
    async with http.post("/admin/backups", data={"csrf_token": token}, allow_redirects=False) as r:
        assert r.status == 302
    progress = await wait_finished(http)
    assert progress["error"] == "" and NAME_RE.fullmatch(progress["finished"])
    name = progress["finished"]
    async with http.get("/admin/backups") as r:
        page = await r.text()
    assert f"Backup written: {name}" in page and f'href="/admin/backups/{name}"' in page
    assert re.search(r"\d+(\.\d)? (kB|MB)", page)
    async with http.get(f"/admin/backups/{name}") as r:
        assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
        body = await r.read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = tar.getnames()
    assert "manifest.json" in names
    assert "database/appliance.db" in names or "database/appliance.pgdump" in names
    assert (appliance.data.backups / name).stat().st_size == len(body)
    async with http.post(f"/admin/backups/{name}/delete", data={"csrf_token": token},
                         allow_redirects=False) as r:
        assert r.status == 302
    assert not (appliance.data.backups / name).exists()


async def test_backup_routes_need_admin_and_csrf_and_refuse_other_paths(appliance, http, first_boot) -> None:
    async with http.get("/admin/backups", allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"].startswith("/login")
    (appliance.data.backups / "backup-20260101-020000.tar.gz").write_bytes(b"x")
    async with http.get("/admin/backups/backup-20260101-020000.tar.gz", allow_redirects=False) as r:
        assert r.status == 302  # no download without a login
    await login_admin(http, first_boot.admin_password)
    async with http.post("/admin/backups", data={"csrf_token": "forged"}) as r:
        assert r.status == 403
    for path in ("/admin/backups/..%2Fappliance.toml", "/admin/backups/backup-1.tar.gz",
                 "/admin/backups/backup-20990101-020000.tar.gz"):
        async with http.get(path) as r:
            assert r.status == 404, path
    async with http.get("/admin/backups/backup-20260101-020000.tar.gz") as r:
        assert r.status == 200 and await r.read() == b"x"


async def test_agent_cannot_reach_backups(appliance, http, first_boot) -> None:
    from appliance.models import User
    from appliance.security.passwords import hash_password
    from tests.appliance.webui.helpers import login
    await appliance.db.call(User.create, username="agent1", display_name="Agent", role="agent",
                            password_hash=hash_password("Agent-Pass-123"), must_change_password=False)
    (appliance.data.backups / "backup-20260101-020000.tar.gz").write_bytes(b"secret")
    await login(http, "agent1", "Agent-Pass-123")
    for path in ("/admin/backups", "/admin/backups/backup-20260101-020000.tar.gz"):
        async with http.get(path, allow_redirects=False) as r:
            assert r.status == 403, path
