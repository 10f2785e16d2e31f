"""SMS in by POP3 (C10), killed with SIGKILL at random moments during intake and restarted: every gateway mail
is exactly one SMS message, none lost, none twice (POP3 commits its DELEs only at QUIT, the harder case)."""
from __future__ import annotations

from pathlib import Path

from tests.appliance.mail.kill9_run import count_in, kill_and_finish, kills_hit_intake, prepare, setup_account
from tests.appliance.mail.servers import Dovecot
from tests.appliance.mail.test_sms_gateway_in import gateway_mail

TOTAL = 300
KILLS = 3
USER = "sms-bulk@gw.example"
NUMBER = "+4930123456"


def test_kill_9_during_sms_by_mail_intake_loses_nothing_and_duplicates_nothing(dovecot: Dovecot,
                                                                               tmp_path: Path) -> None:
    url, env = prepare(tmp_path, fetch_batch=10)
    tenant_id = setup_account(url, dovecot, "SMS", ("sms", NUMBER), "pop3", USER, kind="sms-gateway",
                              sms_number=NUMBER)
    dovecot.add_user(USER)
    for i in range(TOTAL):  # one sender each: a lost or doubled SMS shows in the counts
        dovecot.deliver(USER, gateway_mail(f"49170{i:07d}@sms.example.net", f"SMS Nummer {i} – grüß dich",
                                           f"<sms{i}@gw.example>"))
    # (SMS messages in, distinct senders, distinct idempotency keys)
    seed, seen = kill_and_finish(env, tmp_path, KILLS, TOTAL, lambda: count_in(url, tenant_id, "sender", "sms")[0],
                                 lambda: dovecot.count(USER), pause=(0.3, 1.5))
    assert count_in(url, tenant_id, "sender", "sms") == (TOTAL, TOTAL, TOTAL), f"seed {seed}, kills at {seen}"
    assert dovecot.count(USER) == 0
    assert list((tmp_path / "data" / "spool" / "sms" / "new").glob("*.seg")) == []
    assert list((tmp_path / "data" / "spool" / "mail" / "new").glob("*.seg")) == []  # none went the mail way
    assert kills_hit_intake(seen, TOTAL), seen
