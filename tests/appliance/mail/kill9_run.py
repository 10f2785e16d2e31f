"""What the SIGKILL intake tests share: an appliance set up against dovecot, then killed at random moments while
it fetches, restarted, and let finish; the test then counts what arrived."""
from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any, Callable

import peewee

from appliance.db import Database
from appliance.firstboot import initialise
from appliance.mail.models import MailAccount
from appliance.models import Mailbox, ServiceAddress, Tenant
from tests.appliance.mail.servers import PASSWORD, Dovecot
from tests.appliance.process import ApplianceProcess
from tests.pg import free_port


def prepare(tmp_path: Path, fetch_batch: int) -> tuple[str, dict[str, str]]:
    """A first-booted data directory on SQLite (the harder case for durability): (database url, environment)."""
    url = f"sqlite:///{tmp_path / 'kill9.db'}"
    env = {"APPLIANCE_DATA_DIR": str(tmp_path / "data"), "APPLIANCE_DATABASE_URL": url,
           "APPLIANCE_WEB_HOST": "127.0.0.1", "APPLIANCE_WEB_PORT": str(free_port()),
           "APPLIANCE_SNMP_PORT": str(free_port()), "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
           "APPLIANCE_MAIL_SMTP_ENABLED": "false", "APPLIANCE_MAIL_FETCH_BATCH": str(fetch_batch)}
    initialise(tmp_path / "data", env)
    return url, env


def setup_account(url: str, dovecot: Dovecot, mailbox: str, address: tuple[str, str], protocol: str,
                  username: str, **account: Any) -> int:
    """Tenant Acme with one mailbox serving `address` (kind, value) and a mail account on dovecot; its id."""
    db = Database(url)
    with db.peewee.connection_context():
        db.migrate()
        with db.peewee.atomic():
            tenant = Tenant.create(name="Acme")
            box = Mailbox.create(tenant=tenant, name=mailbox)
            ServiceAddress.create(tenant=tenant, mailbox=box, kind=address[0], value=address[1])
            MailAccount.create(tenant=tenant, mailbox=box, name=mailbox.lower(), protocol=protocol,
                               host="localhost", port=dovecot.ports[f"{protocol}s"], security="tls",
                               ca_file=str(dovecot.cert), username=username, password=PASSWORD, poll_s=1, **account)
    db.close()
    return tenant.id


def count_in(url: str, tenant_id: int, distinct: str, channel: str | None = None) -> tuple[int, int, int]:
    """(inbound messages, distinct `distinct` column, distinct idempotency keys), read while the appliance runs."""
    db = peewee.SqliteDatabase(url[len("sqlite:///"):], pragmas={"busy_timeout": 10000})
    where = "tenant_id = ? AND direction = 'in'" + (" AND channel = ?" if channel else "")
    params = (tenant_id, channel) if channel else (tenant_id,)
    with db.connection_context():
        row = db.execute_sql(f"SELECT COUNT(*), COUNT(DISTINCT {distinct}), COUNT(DISTINCT idempotency_key) "
                             f"FROM message WHERE {where}", params).fetchone()
    return tuple(row)


def kill_and_finish(env: dict[str, str], tmp_path: Path, kills: int, total: int, stored: Callable[[], int],
                    left: Callable[[], int], pause: tuple[float, float]) -> tuple[int, list[tuple[int, int]]]:
    """Start, SIGKILL after a random pause `kills` times, then run until all `total` are stored and the server's
    mailbox is empty, and stop cleanly. Returns (the seed, (stored, left) at each kill)."""
    seed = int(os.environ.get("KILL9_SEED", time.time_ns() % 100000))
    rng = random.Random(seed)
    seen = []
    for _ in range(kills):
        proc = ApplianceProcess(env, tmp_path)
        proc.wait_ready(60)
        time.sleep(rng.uniform(*pause))
        proc.kill9()
        seen.append((stored(), left()))
    proc = ApplianceProcess(env, tmp_path)
    proc.wait_ready(60)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (stored() >= total and left() == 0):
        time.sleep(0.2)
    time.sleep(1.5)  # anything still in flight would show up now as a duplicate
    assert proc.terminate() == 0
    return seed, seen


def kills_hit_intake(seen: list[tuple[int, int]], total: int) -> bool:
    """Whether some kill came while the intake was under way, not only before or after it."""
    return any(0 < stored < total or 0 < left < total for stored, left in seen)
