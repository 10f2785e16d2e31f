"""Acceptance (issue 7): 1,000 mails in dovecot, the appliance killed with SIGKILL at random moments
during intake several times, restarted: exactly 1,000 ticket messages, none duplicated, none lost."""
from __future__ import annotations

import random
from pathlib import Path

from tests.appliance.mail.corpus import mail
from tests.appliance.mail.kill9_run import count_in, kill_and_finish, kills_hit_intake, prepare, setup_account
from tests.appliance.mail.servers import Dovecot

TOTAL = 1000
KILLS = 4
ADDRESS = "bulk@acme.example"


def test_kill_9_during_intake_loses_nothing_and_duplicates_nothing(dovecot: Dovecot, tmp_path: Path) -> None:
    # SQLite (the default and the harder case for durability); the PostgreSQL path is the same code.
    url, env = prepare(tmp_path, fetch_batch=20)
    tenant_id = setup_account(url, dovecot, "Bulk", ("email", ADDRESS), "imap", ADDRESS)
    dovecot.add_user(ADDRESS)
    for i in range(TOTAL):
        dovecot.deliver(ADDRESS, mail(to=ADDRESS, subject=f"bulk {i}", message_id=f"<bulk{i}@customer.example>",
                                      body=f"message number {i}\n" + "x" * random.randint(0, 2000)))
    seed, seen = kill_and_finish(env, tmp_path, KILLS, TOTAL, lambda: count_in(url, tenant_id, "source_ref")[0],
                                 lambda: dovecot.count(ADDRESS), pause=(0.2, 1.5))
    assert count_in(url, tenant_id, "source_ref") == (TOTAL, TOTAL, TOTAL), f"seed {seed}, kills at {seen}"
    assert dovecot.count(ADDRESS) == 0
    assert list((tmp_path / "data" / "spool" / "mail" / "new").glob("*.seg")) == []
    assert kills_hit_intake(seen, TOTAL), seen
