"""A real PostgreSQL server for the tests: Debian's postgresql, as an unprivileged user, in a temp dir."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> str | None:
    """Debian's versioned server binaries (initdb is not on PATH there)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in dirs:
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


@dataclass
class PgServer:
    """A running server; `new_database()` gives each test its own database."""

    bindir: str
    root: Path
    port: int
    as_user: str | None

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        """initdb and start, listening on loopback only."""
        data = self.root / "data"
        self._run(f"{self.bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "appliance",
                  "--no-sync", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off " \
               f"-c synchronous_commit=off -c full_page_writes=off"
        self._run(f"{self.bindir}/pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "start")

    def stop(self) -> None:
        """Stop fast."""
        self._run(f"{self.bindir}/pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")

    def url(self, dbname: str = "postgres") -> str:
        """A connection URL."""
        return f"postgresql://appliance@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_pg() -> PgServer | None:
    """Start a server, or None when PostgreSQL is not installed."""
    bindir = pg_bindir()
    if not bindir:
        return None
    root = Path(tempfile.mkdtemp(prefix="appliance-pg-"))
    as_user = None
    if os.geteuid() == 0:
        # initdb refuses to run as root: use Debian's postgres user (or nobody).
        as_user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(root, user=as_user)
    server = PgServer(bindir, root, free_port(), as_user)
    server.start()
    return server


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
