"""Backup and restore: one archive with a consistent database copy, the document store, keys and config.

SQLite is copied with its online backup API, so a backup taken while the appliance runs is
consistent; PostgreSQL is dumped with pg_dump. The archive holds the store key: keep it safe.
"""
from __future__ import annotations

import datetime
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from appliance.datadir import DataDir
from appliance.errors import ApplianceError

# What of the data directory a backup carries besides the database.
CARRIED = ("appliance.toml", "keys", "tls", "store", ".initialised")


class BackupError(ApplianceError):
    """A backup or restore could not be made."""


def make_backup(data: DataDir, database_url: str, dest_dir: Path | None = None) -> Path:
    """Write `backup-YYYYmmdd-HHMMSS.tar.gz` and return its path."""
    dest_dir = dest_dir or data.backups
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = dest_dir / f"backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        manifest = {"created": stamp, "format": 1}
        if database_url.startswith("sqlite:///"):
            db_copy = tmpdir / "appliance.db"
            src = sqlite3.connect(database_url[len("sqlite:///"):])
            dst = sqlite3.connect(db_copy)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
            manifest["database"] = "sqlite"
        else:
            db_copy = tmpdir / "appliance.pgdump"
            pg_dump = shutil.which("pg_dump")
            if not pg_dump:
                raise BackupError("pg_dump is not installed (Debian package postgresql-client)")
            subprocess.run([pg_dump, "--format=custom", "--file", str(db_copy), database_url], check=True,
                           capture_output=True, timeout=3600)
            manifest["database"] = "postgresql"
        (tmpdir / "manifest.json").write_text(json.dumps(manifest))
        partial = target.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(tmpdir / "manifest.json", "manifest.json")
            tar.add(db_copy, f"database/{db_copy.name}")
            for name in CARRIED:
                if (data.root / name).exists():
                    tar.add(data.root / name, f"data/{name}")
        partial.rename(target)
    return target


def prune_backups(dest_dir: Path, keep_days: int, now: float | None = None) -> list[Path]:
    """Delete backups older than keep_days; returns what was deleted."""
    now = now or time.time()
    removed = []
    for path in dest_dir.glob("backup-*.tar.gz"):
        if now - path.stat().st_mtime > keep_days * 86400:
            path.unlink()
            removed.append(path)
    return removed


def restore_backup(archive: Path, data: DataDir, database_url: str) -> None:
    """Replace the data directory's database, store, keys and config with the archive's.

    Run only while the appliance is stopped.
    """
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive}: not a readable backup ({exc})") from None
    with tar, tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        tar.extractall(tmpdir, filter="data")
        if not (tmpdir / "manifest.json").exists():
            raise BackupError(f"{archive}: no manifest.json: not an appliance backup")
        manifest = json.loads((tmpdir / "manifest.json").read_text())
        data.root.mkdir(parents=True, exist_ok=True)
        for name in CARRIED:
            src, dst = tmpdir / "data" / name, data.root / name
            if dst.is_dir():
                shutil.rmtree(dst)
            elif dst.exists():
                dst.unlink()
            if src.is_dir():
                shutil.copytree(src, dst)
            elif src.exists():
                shutil.copy2(src, dst)
        if manifest.get("database") == "sqlite":
            if not database_url.startswith("sqlite:///"):
                raise BackupError("this backup holds a SQLite database but the appliance uses PostgreSQL")
            db_path = Path(database_url[len("sqlite:///"):])
            for suffix in ("-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            shutil.copy2(tmpdir / "database" / "appliance.db", db_path)
        else:
            pg_restore = shutil.which("pg_restore")
            if not pg_restore:
                raise BackupError("pg_restore is not installed (Debian package postgresql-client)")
            subprocess.run([pg_restore, "--clean", "--if-exists", "--dbname", database_url,
                            str(tmpdir / "database" / "appliance.pgdump")], check=True, capture_output=True)
