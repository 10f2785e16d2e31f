"""The hand-over between the admin console and the installer: one staged bundle and one result file.

The web process (unprivileged) writes `<data>/updates/staged.update` after verifying it; systemd's
`appliance-update.path` sees it and starts `appliance update --staged` as root, which moves it aside
(so the path unit does not fire twice), installs it, and writes `last-result.json` for the page.
"""
from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from appliance.config import Config
from appliance.update.errors import UpdateError
from appliance.update.install import install_update

STAGED = "staged.update"
INSTALLING = "installing.update"
LAST_RESULT = "last-result.json"


def updates_dir(data_dir: Path) -> Path:
    """Where uploads are staged."""
    return data_dir / "updates"


def _record(folder: Path, ok: bool, text: str) -> None:
    result = {"ok": ok, "message": text,
              "at": datetime.datetime.now().isoformat(timespec="seconds")}
    tmp = folder / (LAST_RESULT + ".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, folder / LAST_RESULT)


def install_staged(config: Config) -> str:
    """Install the staged bundle; the outcome is also written for the admin console. Raises UpdateError."""
    folder = updates_dir(config.data_dir)
    staged = folder / STAGED
    if not staged.exists():
        raise UpdateError(f"no staged update in {folder}")
    installing = folder / INSTALLING
    os.replace(staged, installing)
    try:
        done = install_update(installing, config)
    except UpdateError as exc:
        _record(folder, False, f"update refused or rolled back: {exc}")
        raise
    finally:
        installing.unlink(missing_ok=True)
    text = f"updated {done.previous} -> {done.version}; data backed up first to {done.backup.name}"
    _record(folder, True, text)
    return text
