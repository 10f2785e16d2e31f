"""SMS in by POP3 (C10), killed with SIGKILL at random moments during intake and restarted: every gateway mail
is exactly one SMS message, none lost, none twice (POP3 commits its DELEs only at QUIT, the harder case)."""
from __future__ import annotations

import os
import random
import time
from pathlib import Path

import peewee

from appliance.db import Database
from appliance.firstboot import initialise
from appliance.mail.models import MailAccount
from appliance.models import Mailbox, ServiceAddress, Tenant
from tests.appliance.mail.servers import PASSWORD, Dovecot
from tests.appliance.mail.test_sms_gateway_in import gateway_mail
from tests.appliance.process import ApplianceProcess
from tests.pg import free_port

TOTAL = 300
KILLS = 3
USER = "sms-bulk@gw.example"
NUMBER = "+4930123456"


def setup_org(url: str, dovecot: Dovecot) -> int:
    db = Database(url)
    with db.peewee.connection_context():
        db.migrate()
        with db.peewee.atomic():
            tenant = Tenant.create(name="Acme")
            box = Mailbox.create(tenant=tenant, name="SMS")
            ServiceAddress.create(tenant=tenant, mailbox=box, kind="sms", value=NUMBER)
            MailAccount.create(tenant=tenant, mailbox=box, name="sms gateway", protocol="pop3", host="localhost",
                               port=dovecot.ports["pop3s"], security="tls", ca_file=str(dovecot.cert),
                               username=USER, password=PASSWORD, poll_s=1, kind="sms-gateway", sms_number=NUMBER)
    db.close()
    return tenant.id


def counts(url: str, tenant_id: int) -> tuple[int, int, int]:
    """(SMS messages in, distinct senders, distinct idempotency keys), read while the appliance may run."""
    db = peewee.SqliteDatabase(url[len("sqlite:///"):], pragmas={"busy_timeout": 10000})
    with db.connection_context():
        row = db.execute_sql(
            "SELECT COUNT(*), COUNT(DISTINCT sender), COUNT(DISTINCT idempotency_key) FROM message "
            "WHERE tenant_id = ? AND direction = 'in' AND channel = 'sms'", (tenant_id,)).fetchone()
    return tuple(row)


def test_kill_9_during_sms_by_mail_intake_loses_nothing_and_duplicates_nothing(dovecot: Dovecot,
                                                                               tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kill9.db'}"
    env = {"APPLIANCE_DATA_DIR": str(tmp_path / "data"), "APPLIANCE_DATABASE_URL": url,
           "APPLIANCE_WEB_HOST": "127.0.0.1", "APPLIANCE_WEB_PORT": str(free_port()),
           "APPLIANCE_SNMP_PORT": str(free_port()), "APPLIANCE_SUPERVISOR_HEARTBEAT_TIMEOUT_S": "5",
           "APPLIANCE_MAIL_SMTP_ENABLED": "false", "APPLIANCE_MAIL_FETCH_BATCH": "10"}
    initialise(tmp_path / "data", env)
    tenant_id = setup_org(url, dovecot)
    dovecot.add_user(USER)
    for i in range(TOTAL):  # one sender each: a lost or doubled SMS shows in the counts
        dovecot.deliver(USER, gateway_mail(f"49170{i:07d}@sms.example.net", f"SMS Nummer {i} – grüß dich",
                                           f"<sms{i}@gw.example>"))
    seed = int(os.environ.get("KILL9_SEED", time.time_ns() % 100000))
    rng = random.Random(seed)
    seen_mid_intake = []
    for _ in range(KILLS):
        proc = ApplianceProcess(env, tmp_path)
        proc.wait_ready(60)
        time.sleep(rng.uniform(0.3, 1.5))
        proc.kill9()
        seen_mid_intake.append((counts(url, tenant_id)[0], dovecot.count(USER)))
    proc = ApplianceProcess(env, tmp_path)
    proc.wait_ready(60)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if counts(url, tenant_id)[0] >= TOTAL and dovecot.count(USER) == 0:
            break
        time.sleep(0.2)
    time.sleep(1.5)  # anything still in flight would show up now as a duplicate
    assert proc.terminate() == 0
    assert counts(url, tenant_id) == (TOTAL, TOTAL, TOTAL), f"seed {seed}, kills at {seen_mid_intake}"
    assert dovecot.count(USER) == 0
    assert list((tmp_path / "data" / "spool" / "sms" / "new").glob("*.seg")) == []
    assert list((tmp_path / "data" / "spool" / "mail" / "new").glob("*.seg")) == []  # none went the mail way
    # The kills did hit the intake, not only the time before or after it.
    assert any(0 < stored < TOTAL or 0 < left < TOTAL for stored, left in seen_mid_intake), seen_mid_intake
