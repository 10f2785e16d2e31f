"""The data directory: where everything the appliance keeps lives, and first boot (`init`)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from appliance import config as config_mod
from appliance.security import tls
from appliance.store import write_durably

MARKER = ".initialised"


@dataclass(frozen=True)
class DataDir:
    """Paths inside the data directory."""

    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / config_mod.CONFIG_FILE

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def cert(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def tls_key(self) -> Path:
        return self.root / "tls" / "key.pem"

    @property
    def store_key(self) -> Path:
        return self.root / "keys" / "store.key"

    @property
    def session_key(self) -> Path:
        return self.root / "keys" / "session.key"

    @property
    def snmp_keys(self) -> Path:
        return self.root / "keys" / "snmp.json"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def initialised(self) -> bool:
        """True once `init` has finished."""
        return self.marker.exists()

    def read_key(self, path: Path) -> bytes:
        """A 32-byte secret made by init."""
        return bytes.fromhex(path.read_text().strip())


def _secret_file(path: Path) -> None:
    if not path.exists():
        write_durably(path, secrets.token_hex(32).encode())
        path.chmod(0o600)


def prepare(root: Path) -> tuple[DataDir, str]:
    """Create directories, the config file, keys and the TLS certificate; returns the fingerprint."""
    d = DataDir(root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    for sub in ("tls", "keys", "store", "spool", "backups", "quarantine"):
        (root / sub).mkdir(exist_ok=True)
    if not d.config_file.exists():
        write_durably(d.config_file, config_mod.render_default_file().encode())
    _secret_file(d.store_key)
    _secret_file(d.session_key)
    if not (d.cert.exists() and d.tls_key.exists()):
        fp = tls.make_self_signed(d.cert, d.tls_key)
    else:
        fp = tls.fingerprint(d.cert)
    return d, fp
