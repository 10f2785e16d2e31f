"""First boot (`init`): data directory, keys, certificate, database and the one-time admin password."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from appliance import accounts, config as config_mod, datadir
from appliance.console.auth import ensure_console_password
from appliance.db import Database
from appliance.snmp import credentials as snmp_credentials


@dataclass
class FirstBoot:
    """What first boot made, to show the person at the console once."""

    root: Path
    fingerprint: str
    admin_password: str | None
    console_password: str | None = None
    snmp_v3: str | None = None  # "snmp v3 user: … auth: … priv: …", only when made now


def make_snmp_credentials(data: datadir.DataDir) -> str | None:
    """Generate the SNMPv3 user and passphrases once; the line to show, or None if they existed."""
    creds, made = snmp_credentials.ensure(data.snmp_keys)
    return snmp_credentials.describe(creds) if made else None


def initialise(root: Path, env: Mapping[str, str] | None = None) -> FirstBoot:
    """Make everything; safe to re-run after an interrupted first boot (the marker comes last)."""
    data, fingerprint = datadir.prepare(root)
    snmp_line = make_snmp_credentials(data)
    cfg = config_mod.load(root, env)
    db = Database(cfg.database_url)
    try:
        with db.peewee.connection_context():
            db.migrate()
            password = accounts.ensure_admin()
    finally:
        db.close()
    console_password = make_console_password(root)
    data.marker.write_text("1\n")
    return FirstBoot(root, fingerprint, password, console_password, snmp_v3=snmp_line)


def make_console_password(root: Path) -> str | None:
    """The serial console's password, made once (argon2 hash in the data directory), shown at init."""
    return ensure_console_password(root)
