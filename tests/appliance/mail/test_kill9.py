"""Acceptance (issue 7): 1,000 mails in dovecot, the appliance killed with SIGKILL at random moments
during intake several times, restarted: exactly 1,000 ticket messages, none duplicated, none lost."""
from __future__ import annotations

import os
import random
import time
from pathlib import Path

import peewee

from appliance.db import Database
from appliance.firstboot import initialise
from appliance.mail.models import MailAccount
from appliance.models import Mailbox, Message, ServiceAddress, Tenant
from tests.appliance.mail.corpus import mail
from tests.appliance.mail.servers import PASSWORD, Dovecot
from tests.appliance.process import ApplianceProcess
from tests.pg import free_port

TOTAL = 1000
KILLS = 4
ADDRESS = "bulk@acme.example"


def setup_org(url: str, dovecot: Dovecot) -> int:
    db = Database(url)
    with db.peewee.connection_context():
        db.migrate()
        with db.peewee.atomic():
            tenant = Tenant.create(name="Acme")
            box = Mailbox.create(tenant=tenant, name="Bulk")
            ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value=ADDRESS)
            MailAccount.create(tenant=tenant, mailbox=box, name="bulk", protocol="imap", host="localhost",
                               port=dovecot.ports["imaps"], security="tls", ca_file=str(dovecot.cert),
                               username=ADDRESS, password=PASSWORD, poll_s=1)
    db.close()
    return tenant.id


def counts(url: str, tenant_id: int) -> tuple[int, int, int]:
    """(messages, distinct Message-IDs, distinct idempotency keys) read while the appliance may run."""
    db = peewee.SqliteDatabase(url[len("sqlite:///"):], pragmas={"busy_timeout": 10000})
    with db.connection_context():
        row = db.execute_sql(
            "SELECT COUNT(*), COUNT(DISTINCT source_ref), COUNT(DISTINCT idempotency_key) FROM message "
            "WHERE tenant_id = ? AND direction = 'in'", (tenant_id,)).fetchone()
    return tuple(row)


def test_kill_9_during_intake_loses_nothing_and_duplicates_nothing(dovecot: Dovecot, tmp_path: Path) -> None:
    # SQLite (the default and the harder case for durability); the PostgreSQL path is the same code.
    url = f"sqlite:///{tmp_path / 'kill9.db'}"
    env = {"APPLIANCE_DATA_DIR": str(tmp_path / "data"), "APPLIANCE_DATABASE_URL": url,
           "APPLIANCE_WEB_HOST": "127.0.0.1", "APPLIANCE_WEB_PORT": str(free_port()),
           "APPLIANCE_SNMP_PORT": str(free_port()), "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
           "APPLIANCE_MAIL_SMTP_ENABLED": "false", "APPLIANCE_MAIL_FETCH_BATCH": "20"}
    initialise(tmp_path / "data", env)
    tenant_id = setup_org(url, dovecot)
    dovecot.add_user(ADDRESS)
    for i in range(TOTAL):
        dovecot.deliver(ADDRESS, mail(to=ADDRESS, subject=f"bulk {i}", message_id=f"<bulk{i}@customer.example>",
                                      body=f"message number {i}\n" + "x" * random.randint(0, 2000)))
    seed = int(os.environ.get("KILL9_SEED", time.time_ns() % 100000))
    rng = random.Random(seed)
    seen_mid_intake = []
    for round_ in range(KILLS):
        proc = ApplianceProcess(env, tmp_path)
        proc.wait_ready(60)
        time.sleep(rng.uniform(0.2, 1.5))
        proc.kill9()
        n, _, _ = counts(url, tenant_id)
        seen_mid_intake.append((n, dovecot.count(ADDRESS)))
    proc = ApplianceProcess(env, tmp_path)
    proc.wait_ready(60)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if counts(url, tenant_id)[0] >= TOTAL and dovecot.count(ADDRESS) == 0:
            break
        time.sleep(0.2)
    time.sleep(1.5)  # anything still in flight would show up now as a duplicate
    assert proc.terminate() == 0
    total, distinct_ids, distinct_keys = counts(url, tenant_id)
    assert (total, distinct_ids, distinct_keys) == (TOTAL, TOTAL, TOTAL), f"seed {seed}, kills at {seen_mid_intake}"
    assert dovecot.count(ADDRESS) == 0
    spool_new = tmp_path / "data" / "spool" / "mail" / "new"
    assert list(spool_new.glob("*.seg")) == []
    # The kills did hit the intake, not only the time before or after it.
    assert any(0 < stored < TOTAL or 0 < left < TOTAL for stored, left in seen_mid_intake), seen_mid_intake
