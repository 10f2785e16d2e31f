"""Mail secrets at rest (account passwords, S/MIME keys sealed with the store key), key files as people
hand them over (PKCS #12, PEM), and partner certificates learned from signed inbound mail."""
from __future__ import annotations

import datetime
import os
from email.message import EmailMessage
from email import policy
from pathlib import Path

import pytest

from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail import certs, credentials, outbox, smime
from appliance.mail.errors import SmimeError
from appliance.mail.intake import MailProcessor
from appliance.mail.models import MailAccount, SmimeCredential
from appliance.mail.smime import SmimeInbound
from appliance.security.secrets import SecretBox, SecretError
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.appliance.mail.pki import identity

ALICE = identity("alice@customer.example")


@pytest.fixture
def env(database_url: str, tmp_path: Path):
    db = open_db(database_url)
    org = make_org(db, "Acme", ["support@acme.example"])
    yield db, org, SecretBox(os.urandom(32))
    db.close()


def test_pkcs12_with_passphrase_gives_the_pair_and_a_wrong_one_is_named() -> None:
    pair = certs.from_pkcs12(ALICE.pkcs12("s3cret pass"), "s3cret pass")
    assert pair.cert_pem.encode() == ALICE.cert_pem and "PRIVATE KEY" in pair.key_pem
    with pytest.raises(SmimeError, match="wrong passphrase"):
        certs.from_pkcs12(ALICE.pkcs12("s3cret pass"), "guess")
    with pytest.raises(SmimeError, match="not a PKCS #12"):
        certs.from_pkcs12(b"garbage", "")


def test_pem_files_protected_key_and_mismatched_key() -> None:
    assert certs.from_pem(ALICE.cert_pem, ALICE.key_pem("pw"), "pw").cert_pem.encode() == ALICE.cert_pem
    with pytest.raises(SmimeError, match="give its passphrase"):
        certs.from_pem(ALICE.cert_pem, ALICE.key_pem("pw"), "")
    with pytest.raises(SmimeError, match="does not belong"):
        certs.from_pem(ALICE.cert_pem, identity("bob@x.example").key_pem(), "")
    der = ALICE.cert.public_bytes(certs.serialization.Encoding.DER)
    assert certs.load_certificate(der) == ALICE.cert
    with pytest.raises(SmimeError, match="not a PEM or DER"):
        certs.load_certificate(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


def test_describe_warns_before_expiry() -> None:
    facts = certs.describe(identity("old@x.example", days=10).cert)
    assert facts["expiry"] == "expiring" and 8 <= facts["days_left"] <= 10
    assert facts["emails"] == ["old@x.example"] and "CN=Old" in facts["subject"] and facts["issuer"] == facts["subject"]
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=20)
    assert certs.describe(identity("old@x.example", days=10).cert, later)["expiry"] == "expired"
    assert certs.describe(ALICE.cert)["expiry"] == "ok"
    assert certs.describe(identity("new@x.example", start_days=2).cert)["expiry"] == "not_yet_valid"


async def test_plain_text_rows_are_sealed_and_a_seal_does_not_open_on_another_row(env) -> None:
    db, org, box = env

    def legacy() -> tuple[int, int]:
        a = MailAccount.create(tenant=org.tenant_id, mailbox=org.mailbox_id, name="old", host="h", port=993,
                               username="u", password="plain-Pw-1")
        b = MailAccount.create(tenant=org.tenant_id, mailbox=org.mailbox_id, name="other", host="h", port=993,
                               username="u", password="other-Pw-2")
        key = SmimeCredential.create(tenant=org.tenant_id, mailbox=org.mailbox_id, email="support@acme.example",
                                     cert_pem=ALICE.cert_pem.decode(), key_pem=ALICE.key_pem().decode())
        return a.id, b.id, key.id
    a_id, b_id, key_id = await db.call(legacy)
    assert await db.call(credentials.seal_plaintext, box) == 3
    assert await db.call(credentials.seal_plaintext, box) == 0
    a, b = await db.call(lambda: (MailAccount.get_by_id(a_id), MailAccount.get_by_id(b_id)))
    assert a.password == "" and a.password_sealed.startswith("s1:") and "plain-Pw-1" not in a.password_sealed
    assert credentials.password_of(box, a) == "plain-Pw-1"
    b.password_sealed = a.password_sealed  # someone copies a sealed value to another row
    with pytest.raises(SecretError):
        credentials.password_of(box, b)
    with pytest.raises(SecretError):
        credentials.password_of(SecretBox(os.urandom(32)), a)  # another appliance's key
    key = await db.call(SmimeCredential.get_by_id, key_id)
    assert key.key_pem == "" and key.sha256 == certs.fingerprint(ALICE.cert)
    keys = await db.call(credentials.smime_keys, box)
    assert keys.own == [(ALICE.cert_pem, ALICE.key_pem())]


def signed_mail(signer, sender: str, message_id: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = sender, "support@acme.example", "Signed"
    msg["Message-ID"], msg["Date"] = message_id, "Mon, 23 Nov 2026 10:00:00 +0000"
    msg.set_content("Please refund order 42.")
    return smime.sign(msg, signer.cert_pem, signer.key_pem()).as_bytes(policy=policy.SMTP)


async def test_partner_certificates_are_learned_from_valid_signatures_by_the_sender_only(env, tmp_path) -> None:
    db, org, box = env
    store = make_store(tmp_path)
    processor = MailProcessor(store, ModelTicketSink(), smime=SmimeInbound())
    pipeline = IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, processor)
    mallory = identity("mallory@elsewhere.example")
    rcpt = {"rcpt": ["support@acme.example"]}
    await pipeline.accept([SpoolEntry(signed_mail(ALICE, "alice@customer.example", "<s1@x>"), "t", rcpt),
                           SpoolEntry(signed_mail(ALICE, "alice@customer.example", "<s2@x>"), "t", rcpt),
                           SpoolEntry(signed_mail(mallory, "alice@customer.example", "<s3@x>"), "t", rcpt)])
    await pipeline.drain()
    rows = await db.call(lambda: list(SmimeCredential.select()))
    assert [(r.email, r.source, r.trusted, r.sha256) for r in rows] == [
        ("alice@customer.example", "learned", False, certs.fingerprint(ALICE.cert))]

    def reply() -> str:
        msg = EmailMessage(policy=policy.SMTP)
        msg["From"], msg["To"], msg["Subject"] = "support@acme.example", "alice@customer.example", "Re: Signed"
        msg.set_content("Refunded.")
        _, status = outbox.protect(org.tenant_id, msg, "support@acme.example", ["alice@customer.example"],
                                   {"smime_encrypt": True}, box)
        return status
    assert await db.call(reply) == "encrypted"


async def test_a_sealed_signing_key_signs_only_with_the_box(env) -> None:
    db, org, box = env
    support = identity("support@acme.example")
    pair = certs.from_pem(support.cert_pem, support.key_pem(), "")
    await db.call(credentials.add_keypair, box, org.tenant_id, org.mailbox_id, "support@acme.example", pair)

    def sign(with_box) -> str:
        msg = EmailMessage(policy=policy.SMTP)
        msg["From"], msg["To"], msg["Subject"] = "support@acme.example", "bob@x.example", "Hi"
        msg.set_content("Hello.")
        return outbox.protect(org.tenant_id, msg, "support@acme.example", ["bob@x.example"],
                              {"smime_sign": True}, with_box)[1]
    assert await db.call(sign, box) == "signed"
    assert (await db.call(sign, None)).startswith("not signed: the key cannot be opened")


async def test_an_unreadable_signer_certificate_is_skipped_not_fatal(env) -> None:
    db, org, _ = env
    learned = await db.call(credentials.learn_partners, org.tenant_id, "alice@customer.example",
                            ["-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n", ALICE.cert_pem.decode()])
    assert learned == 1
