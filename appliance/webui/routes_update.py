"""Software update in the admin console (A7): upload a signed bundle; it is verified at once (a refusal
says why and keeps nothing) and staged as `<data>/updates/staged.update`, which the systemd path unit
`appliance-update.path` hands to `appliance update --staged` running as root: the web process itself
never gets the rights to replace the software."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import shutil
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from appliance.update.errors import BundleRejected, UpdateError
from appliance.update.install import check_bundle, installed_version
from appliance.update.staging import LAST_RESULT, STAGED, updates_dir
from appliance.webui.keys import CONFIG, USER
from appliance.webui.locale import N_, by_pattern, gettext
from appliance.webui.security import csrf_token, require_role

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    """Register the update pages."""
    app.router.add_routes(routes)


# The installer (running as root, without the web app's languages) writes its report in English, in one of
# these forms (update/staging.py); the page shows it in its own language, the technical reason as it is.
_REPORTS = (
    (re.compile(r"updated (?P<previous>\S+) -> (?P<version>\S+); data backed up first to (?P<backup>.+)\Z"),
     N_("updated %(previous)s -> %(version)s; data backed up first to %(backup)s")),
    (re.compile(r"update refused or rolled back: (?P<reason>.+)\Z", re.DOTALL),
     N_("update refused or rolled back: %(reason)s")),
)


def report_text(message: str) -> str:
    """The installer's report of the last update in the page's language (an unknown form as it is)."""
    return by_pattern(message, _REPORTS)


def _context(request: web.Request, **extra) -> dict:
    cfg = request.app[CONFIG]
    folder = updates_dir(cfg.data_dir)
    try:
        last = json.loads((folder / LAST_RESULT).read_text())
        last["message"] = report_text(str(last.get("message", "")))
    except (OSError, ValueError, TypeError, AttributeError):
        last = None
    return {"user": request[USER], "section": "update", "message": "", "error": "", "last": last,
            "version": installed_version(Path(cfg.get("update", "root"))),
            "staged": (folder / STAGED).exists(), **extra}


@routes.get("/admin/update")
@require_role("admin")
@aiohttp_jinja2.template("admin/update.html")
async def update_page(request: web.Request) -> dict:
    """The installed version, the upload form, the result of the last update."""
    return _context(request, csrf=await csrf_token(request))


def _save(field: web.FileField, target: Path) -> None:
    with open(target, "wb") as out:
        shutil.copyfileobj(field.file, out, 1024 * 1024)


@routes.post("/admin/update")
@require_role("admin")
async def upload_update(request: web.Request) -> web.Response:
    """Verify the uploaded bundle; stage it only when everything checks out."""
    cfg = request.app[CONFIG]
    form = await request.post()
    field = form.get("bundle")
    ctx = {"csrf": await csrf_token(request)}
    if not isinstance(field, web.FileField):
        return aiohttp_jinja2.render_template("admin/update.html", request, _context(
            request, error=gettext(N_("Choose an update file to upload.")), **ctx), status=400)
    folder = updates_dir(cfg.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    upload = folder / f".upload-{secrets.token_hex(8)}.part"
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, _save, field, upload)
        manifest = await loop.run_in_executor(None, check_bundle, upload, cfg)
    except (BundleRejected, UpdateError) as exc:
        upload.unlink(missing_ok=True)
        log.warning("update upload refused: %s", exc)
        return aiohttp_jinja2.render_template("admin/update.html", request, _context(
            request, error=gettext(N_("Refused: %(reason)s. Nothing was changed.")) % {"reason": exc}, **ctx),
            status=422)
    except BaseException:
        upload.unlink(missing_ok=True)
        raise
    os.replace(upload, folder / STAGED)
    log.info("update %s verified and staged from the admin console", manifest.version)
    return aiohttp_jinja2.render_template("admin/update.html", request, _context(
        request, message=gettext(N_("Version %(version)s is verified (signature and all %(files)s files) and staged. "
                                    "The appliance installs it now and restarts; if the new version does not start, "
                                    "the current one comes back by itself.")) % {"version": manifest.version,
                                                                                 "files": len(manifest.files)},
        **ctx))
