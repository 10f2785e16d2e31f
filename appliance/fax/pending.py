"""Pages of fax calls in progress, each on disk (fsync) before the sender is told it arrived (DESIGN "Intake").

    pending = PendingFaxes(spool.base / "pending")
    pending.keep(call_id, index, "MCF", tiff_of_one_page, meta)  # before MCF: write, fsync, rename, fsync dir
    pending.finish(call_id)                                # the call's fax is in the spool: forget the pages
    for call in pending.leftovers(): ...                   # after a crash: the pages of calls never finished

One directory per call: `meta.json` (modem, called number, sender id) and `page-NNNN.<status>.tif` per kept
page (status: the post-page response it got, MCF or RTP).
"""
from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.store import fsync_dir, write_durably

log = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^[0-9a-f]{8,64}$")
_PAGE = re.compile(r"^page-(\d{4})\.([A-Z]{3})\.tif$")


@dataclass
class PendingCall:
    """The kept pages of one unfinished call, in page order."""

    call_id: str
    meta: dict[str, Any]
    pages: list[tuple[str, bytes]] = field(default_factory=list)  # (status, single-page TIFF)


class PendingFaxes:
    """Per-call page files under `root` (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, call_id: str) -> Path:
        if not _CALL_ID.match(call_id):
            raise ValueError(f"not a fax call id: {call_id!r}")
        return self.root / call_id

    def keep(self, call_id: str, index: int, status: str, tiff: bytes, meta: dict[str, Any]) -> None:
        """Write one page durably; the call's meta goes first, so a page never lies around without it."""
        folder = self._dir(call_id)
        if not (folder / "meta.json").exists():
            folder.mkdir(parents=True, exist_ok=True)
            fsync_dir(self.root)
            write_durably(folder / "meta.json", json.dumps(meta).encode())
        if not re.fullmatch(r"[A-Z]{3}", status):
            raise ValueError(f"not a page status: {status!r}")
        write_durably(folder / f"page-{index:04d}.{status}.tif", tiff)

    def finish(self, call_id: str) -> None:
        """The call's fax reached the spool: its pages are no longer needed."""
        folder = self._dir(call_id)
        if folder.exists():
            shutil.rmtree(folder)
            fsync_dir(self.root)

    def leftovers(self) -> list[PendingCall]:
        """Calls whose pages were kept but which never finished (the process died mid-call)."""
        calls = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and _CALL_ID.match(p.name)):
            try:
                meta = json.loads((folder / "meta.json").read_text())
            except (OSError, ValueError) as exc:
                log.warning("fax call %s left pages without readable meta (%s)", folder.name, exc)
                meta = {}
            names = sorted(p.name for p in folder.iterdir() if _PAGE.match(p.name))
            pages = [(n.split(".")[1], (folder / n).read_bytes()) for n in names]
            calls.append(PendingCall(folder.name, meta, pages))
        return calls
