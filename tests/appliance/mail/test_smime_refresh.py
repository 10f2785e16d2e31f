"""The S/MIME key refresh of the mail service goes past a bad row: each one is logged with its id and reason, the
other keys and certificates are still loaded (and the sealing of plain-text rows still finishes)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from appliance.mail import credentials
from appliance.mail.models import SmimeCredential
from appliance.security.secrets import SecretBox
from tests.appliance.intake.helpers import make_org, open_db
from tests.appliance.mail.pki import identity

ALICE = identity("alice@customer.example")
BOB = identity("bob@partner.example")
BROKEN = "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"


@pytest.fixture
def env(database_url: str, tmp_path: Path):
    db = open_db(database_url)
    credentials._REPORTED.clear()  # logged once per row and process: each database here starts its ids at 1
    org = make_org(db, "Acme", ["support@acme.example"])
    yield db, org, SecretBox(os.urandom(32))
    db.close()


async def test_bad_rows_are_logged_and_skipped_the_rest_is_loaded(env, caplog) -> None:
    db, org, box = env

    def rows() -> dict[str, int]:
        def own(cert: str, key: str) -> int:
            return SmimeCredential.create(tenant=org.tenant_id, mailbox=org.mailbox_id, email="support@acme.example",
                                          cert_pem=cert, key_pem=key, trusted=True).id

        def partner(cert: str) -> int:
            return SmimeCredential.create(tenant=org.tenant_id, email="x@partner.example", cert_pem=cert,
                                          trusted=True).id
        ids = {"broken_partner": partner(BROKEN), "broken_own_cert": own(BROKEN, ALICE.key_pem().decode()),
               "broken_key": own(ALICE.cert_pem.decode(), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
               "good_own": own(ALICE.cert_pem.decode(), ALICE.key_pem().decode()), "good_partner": partner(BOB.cert_pem.decode())}
        foreign = SmimeCredential.create(tenant=org.tenant_id, mailbox=org.mailbox_id, email="support@acme.example",
                                         cert_pem=ALICE.cert_pem.decode(), trusted=True, sha256="x",
                                         key_sealed=SecretBox(os.urandom(32)).seal("k", "elsewhere"))
        ids["foreign_key"] = foreign.id
        return ids
    ids = await db.call(rows)
    caplog.set_level(logging.WARNING, logger="appliance.mail.credentials")
    assert await db.call(credentials.seal_plaintext, box) == 3  # the broken certificate stops no sealing
    keys = await db.call(credentials.smime_keys, box)
    assert keys.own == [(ALICE.cert_pem, ALICE.key_pem())]
    assert keys.trusted == [BOB.cert_pem]
    assert [c.subject for c in keys.certificates()]  # every certificate handed on can be read
    logged = [r.getMessage() for r in caplog.records]
    for name, reason in (("broken_partner", "no fingerprint"), ("broken_partner", "its certificate cannot be read"),
                         ("broken_own_cert", "its certificate cannot be read"),
                         ("broken_key", "its private key cannot be read"),
                         ("foreign_key", "its private key cannot be opened")):
        assert any(f"id={ids[name]} " in m and reason in m for m in logged), (name, logged)
    assert not any(f"id={ids['good_own']} " in m or f"id={ids['good_partner']} " in m for m in logged)
    caplog.clear()
    await db.call(credentials.smime_keys, box)  # the next reload (every few seconds) does not log them again
    assert caplog.records == []
