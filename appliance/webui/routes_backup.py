"""Backups in the admin console (A16): list with size and date, back up now with progress, download,
delete. Restore is not offered here: it needs the appliance stopped (CLI `appliance restore` or the
serial console), and the page says so."""
from __future__ import annotations

import asyncio
import datetime
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from appliance.backup import make_backup
from appliance.datadir import DataDir
from appliance.webui.keys import CONFIG, SUPERVISOR, USER
from appliance.webui.security import csrf_token, require_role

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
NAME_PATTERN = r"backup-[0-9]{8}-[0-9]{6}\.tar\.gz"
NAME_RE = re.compile(NAME_PATTERN)


@dataclass
class BackupJob:
    """The one on-demand backup that may be running; the page polls it."""

    running: bool = False
    started: float = 0.0
    finished: str = ""
    error: str = ""
    task: asyncio.Task | None = field(default=None, repr=False)


JOB = web.AppKey("backup_job", BackupJob)


def setup(app: web.Application) -> None:
    """Register the backup pages and their state."""
    app[JOB] = BackupJob()
    app.router.add_routes(routes)


def _data(request: web.Request) -> DataDir:
    return DataDir(request.app[CONFIG].data_dir)


def list_backups(folder: Path) -> list[dict]:
    """Backup archives, newest first, with size and date."""
    found = []
    for path in folder.glob("backup-*.tar.gz") if folder.is_dir() else []:
        if NAME_RE.fullmatch(path.name):
            st = path.stat()
            found.append({"name": path.name, "size": st.st_size,
                          "date": datetime.datetime.fromtimestamp(st.st_mtime).strftime("%Y-%m-%d %H:%M:%S")})
    return sorted(found, key=lambda b: b["name"], reverse=True)


def _progress(folder: Path, job: BackupJob) -> dict:
    # make_backup writes <name>.partial and renames it at the end: its growing size is the progress.
    written = sum(p.stat().st_size for p in folder.glob("*.partial")) if job.running else 0
    return {"running": job.running, "bytes_written": written, "seconds": round(time.monotonic() - job.started, 1)
            if job.running else 0, "finished": job.finished, "error": job.error}


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@routes.get("/admin/backups")
@require_role("admin")
@aiohttp_jinja2.template("admin/backups.html")
async def backups_page(request: web.Request) -> dict:
    """The list, the button, and the progress of a running backup."""
    cfg = request.app[CONFIG]
    data = _data(request)
    rows = [{**b, "size_text": _size(b["size"])} for b in list_backups(data.backups)]
    progress = _progress(data.backups, request.app[JOB])
    return {"user": request[USER], "csrf": await csrf_token(request), "section": "backups", "backups": rows,
            "job": progress, "written_text": _size(progress["bytes_written"]),
            "keep_days": cfg.get("backup", "keep_days"), "hour": cfg.get("backup", "hour"),
            "notice": request.query.get("notice", ""), "scheduled_error": _scheduled_error(request)}


def _scheduled_error(request: web.Request) -> str:
    """Why the last daily backup failed ("" when it worked or has not run)."""
    scheduler = request.app[SUPERVISOR].service("scheduler")
    return getattr(scheduler, "last_backup_error", "") if scheduler is not None else ""


@routes.get("/admin/backups/progress.json")
@require_role("admin")
async def backup_progress(request: web.Request) -> web.Response:
    """The running backup's progress, for scripts and the page."""
    return web.json_response(_progress(_data(request).backups, request.app[JOB]))


@routes.post("/admin/backups")
@require_role("admin")
async def backup_now(request: web.Request) -> web.StreamResponse:
    """Start a backup in the background (one at a time)."""
    job = request.app[JOB]
    if job.running:
        raise web.HTTPConflict(text="A backup is already running.")
    cfg = request.app[CONFIG]
    data = _data(request)
    job.running, job.started, job.finished, job.error = True, time.monotonic(), "", ""

    async def work() -> None:
        try:
            path = await asyncio.get_running_loop().run_in_executor(None, make_backup, data, cfg.database_url)
            job.finished = path.name
            log.info("backup from the admin console written path=%s", path)
        except Exception as exc:  # reported on the page instead of lost in a task
            job.error = str(exc) or repr(exc)
            log.error("backup from the admin console failed: %r", exc)
        finally:
            job.running = False

    job.task = asyncio.create_task(work(), name="admin-backup")
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response({"started": True}, status=202)
    raise web.HTTPFound("/admin/backups")


@routes.get(r"/admin/backups/{name:" + NAME_PATTERN + "}")
@require_role("admin")
async def download_backup(request: web.Request) -> web.StreamResponse:
    """The archive as a download (it holds the store key: admins only)."""
    path = _data(request).backups / request.match_info["name"]
    if not path.is_file():
        raise web.HTTPNotFound(text="No such backup.")
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{path.name}"',
                                           "Content-Type": "application/gzip"})


@routes.post(r"/admin/backups/{name:" + NAME_PATTERN + "}/delete")
@require_role("admin")
async def delete_backup(request: web.Request) -> web.StreamResponse:
    """Delete one archive."""
    name = request.match_info["name"]
    path = _data(request).backups / name
    if not path.is_file():
        raise web.HTTPNotFound(text="No such backup.")
    path.unlink()
    log.info("backup deleted from the admin console name=%s", name)
    raise web.HTTPFound(f"/admin/backups?notice=deleted+{name}")
