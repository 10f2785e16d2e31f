"""S/MIME both ways against OpenSSL (`openssl smime` and `openssl cms`): verify, decrypt, sign, encrypt."""
from __future__ import annotations

import asyncio
import datetime
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.intake.pipeline import IntakePipeline
from appliance.intake.spool import Spool, SpoolEntry
from appliance.intake.tickets import ModelTicketSink
from appliance.mail import smime
from appliance.mail.compose import build_reply
from appliance.mail.intake import MailProcessor
from appliance.mail.models import MailRecord
from appliance.mail.parse import parse_mail
from appliance.models import Message
from tests.appliance.intake.helpers import make_org, make_store, open_db
from tests.tools import require_tool

ENTITY = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nPlease refund order 42.\r\n"


@dataclass
class Party:
    email: str
    cert: Path
    key: Path

    @property
    def pems(self) -> tuple[bytes, bytes]:
        return self.cert.read_bytes(), self.key.read_bytes()


def _write(path: Path, key, cert) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict:
    """A CA and two people, RSA (the key type PKCS #7 enveloping in `cryptography` supports)."""
    d = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Mail CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write(d / "ca", ca_key, ca)
    out = {"ca": d / "ca.pem", "dir": d}
    for n, (who, mail) in enumerate((("alice", "alice@customer.example"), ("support", "support@acme.example"))):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, who)]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(100 + n)
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(mail)]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                               critical=True)
                .sign(ca_key, hashes.SHA256()))
        _write(d / who, key, cert)
        out[who] = Party(mail, d / f"{who}.pem", d / f"{who}.key")
    return out


def openssl(*args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    exe = require_tool("openssl")
    return subprocess.run([exe, *map(str, args)], input=stdin, capture_output=True, timeout=60)


def inbound(pki) -> smime.SmimeInbound:
    return smime.SmimeInbound(smime.SmimeKeys(own=[pki["support"].pems], trusted=[pki["ca"].read_bytes()]))


def headers(tool_args: list, recipient: Path | None = None) -> list:
    """openssl arguments with mail headers; a recipient certificate must come last."""
    tail = [recipient] if recipient else []
    return [*tool_args, "-from", "alice@customer.example", "-to", "support@acme.example", "-subject", "Refund", *tail]


@pytest.mark.parametrize("tool,detached", [("smime", True), ("smime", False), ("cms", True)])
def test_openssl_signature_verifies_and_a_change_is_caught(pki, tool, detached) -> None:
    alice = pki["alice"]
    args = [tool, "-sign", "-signer", alice.cert, "-inkey", alice.key]
    if not detached:
        args.append("-nodetach")
    done = openssl(*headers(args), stdin=ENTITY)
    assert done.returncode == 0, done.stderr
    raw = done.stdout
    mail, status = inbound(pki).unwrap(raw, parse_mail(raw))
    assert status == "signed: valid (alice@customer.example), trusted"
    assert mail.text.strip() == "Please refund order 42." and mail.subject == "Refund"
    assert mail.from_addr == "alice@customer.example"
    if detached:
        tampered = raw.replace(b"order 42", b"order 99")
        _, status = inbound(pki).unwrap(tampered, parse_mail(tampered))
        assert status.startswith("signed: INVALID") and "changed" in status
    untrusting = smime.SmimeInbound(smime.SmimeKeys())
    assert untrusting.unwrap(raw, parse_mail(raw))[1].endswith("signer not trusted")


@pytest.mark.parametrize("tool", ["smime", "cms"])
def test_our_signature_verifies_with_openssl(pki, tool, tmp_path: Path) -> None:
    msg = build_reply(from_addr="support@acme.example", to=["alice@customer.example"], subject="Re: Refund",
                      text="Your refund is on its way.", signature="Acme Support")
    signed = smime.sign(msg, *pki["support"].pems)
    path = tmp_path / "signed.eml"
    path.write_bytes(signed.as_bytes())
    done = openssl(tool, "-verify", "-in", path, "-CAfile", pki["ca"], "-purpose", "any")
    assert done.returncode == 0, done.stderr
    assert b"Your refund is on its way." in done.stdout
    assert signed["From"] == "support@acme.example" and signed["Subject"] == "Re: Refund"
    assert signed.get_content_type() == "multipart/signed"


@pytest.mark.parametrize("tool", ["smime", "cms"])
def test_openssl_encrypted_mail_is_decrypted(pki, tool) -> None:
    done = openssl(*headers([tool, "-encrypt", "-aes256"], pki["support"].cert), stdin=ENTITY)
    assert done.returncode == 0, done.stderr
    mail, status = inbound(pki).unwrap(done.stdout, parse_mail(done.stdout))
    assert status == "encrypted: decrypted" and "refund order 42" in mail.text
    with pytest.raises(smime.SmimeError, match="key"):
        smime.SmimeInbound(smime.SmimeKeys(own=[pki["alice"].pems])).unwrap(done.stdout, parse_mail(done.stdout))


@pytest.mark.parametrize("tool", ["smime", "cms"])
def test_our_encryption_is_decrypted_by_openssl(pki, tool, tmp_path: Path) -> None:
    msg = build_reply(from_addr="support@acme.example", to=["alice@customer.example"], subject="Secret",
                      text="Your new PIN is in the letter.")
    path = tmp_path / "enc.eml"
    path.write_bytes(smime.encrypt(msg, [pki["alice"].cert.read_bytes()]).as_bytes())
    assert b"PIN" not in path.read_bytes()
    done = openssl(tool, "-decrypt", "-in", path, "-recip", pki["alice"].cert, "-inkey", pki["alice"].key)
    assert done.returncode == 0, done.stderr
    assert b"Your new PIN is in the letter." in done.stdout


def test_signed_then_encrypted_both_ways(pki, tmp_path: Path) -> None:
    # OpenSSL → us: sign, then encrypt the signed message.
    signed = openssl(*headers(["smime", "-sign", "-signer", pki["alice"].cert, "-inkey", pki["alice"].key]),
                     stdin=ENTITY).stdout
    enc = openssl(*headers(["smime", "-encrypt", "-aes256"], pki["support"].cert), stdin=signed).stdout
    mail, status = inbound(pki).unwrap(enc, parse_mail(enc))
    assert status == "encrypted: decrypted; signed: valid (alice@customer.example), trusted"
    assert "refund order 42" in mail.text
    # Us → OpenSSL: sign, encrypt; OpenSSL decrypts, then verifies.
    msg = build_reply(from_addr="support@acme.example", to=["alice@customer.example"], subject="Both",
                      text="Signed and sealed.")
    both = smime.encrypt(smime.sign(msg, *pki["support"].pems), [pki["alice"].cert.read_bytes()])
    (tmp_path / "both.eml").write_bytes(both.as_bytes())
    inner = openssl("smime", "-decrypt", "-in", tmp_path / "both.eml", "-recip", pki["alice"].cert,
                    "-inkey", pki["alice"].key)
    assert inner.returncode == 0, inner.stderr
    verified = openssl("smime", "-verify", "-CAfile", pki["ca"], "-purpose", "any", stdin=inner.stdout)
    assert verified.returncode == 0, verified.stderr
    assert b"Signed and sealed." in verified.stdout


def test_intake_shows_the_result_on_the_message(pki, database_url: str, tmp_path: Path) -> None:
    db = open_db(database_url)
    try:
        store = make_store(tmp_path)
        org = make_org(db, "Acme", ["support@acme.example"])
        signed = openssl(*headers(["smime", "-sign", "-signer", pki["alice"].cert, "-inkey", pki["alice"].key]),
                         stdin=ENTITY).stdout
        sealed = openssl(*headers(["smime", "-encrypt", "-aes256"], pki["support"].cert), stdin=signed).stdout
        processor = MailProcessor(store, ModelTicketSink(), smime=inbound(pki))
        pipeline = IntakePipeline(Spool(tmp_path / "spool", "mail"), db, store, processor)

        async def run() -> tuple:
            await pipeline.accept([SpoolEntry(sealed, "test", {"rcpt": ["support@acme.example"]})])
            await pipeline.drain()
            return await db.call(lambda: (Message.get(), MailRecord.get()))
        message, record = asyncio.run(run())
        assert "refund order 42" in message.body and message.sender == "alice@customer.example"
        assert record.smime == "encrypted: decrypted; signed: valid (alice@customer.example), trusted"
        assert bytes(record.raw) == sealed  # the original, still encrypted, is what is kept
    finally:
        db.close()


async def test_keys_from_the_api_sign_the_auto_reply_and_openssl_verifies_it(pki, app, admin_http, smtp_sink,
                                                                              tmp_path: Path) -> None:
    import json
    import smtplib
    import ssl

    from appliance.mail.models import MailOutbox
    from appliance.models import Mailbox, ServiceAddress, Tenant
    from tests.appliance.mail.corpus import mail as make_mail
    from tests.appliance.webui.helpers import csrf_from

    def org() -> int:
        tenant = Tenant.create(name="Signing")
        box = Mailbox.create(tenant=tenant, name="Support", settings=json.dumps(
            {"auto_reply": {"enabled": True, "text": "Signed receipt."}, "smime_sign": True}))
        ServiceAddress.create(tenant=tenant, mailbox=box, kind="email", value="support@acme.example")
        return box.id
    box_id = await app.db.call(org)
    token = await csrf_from(admin_http, "/admin/mail")
    cert, key = (p.decode() for p in pki["support"].pems)
    bad = {"email": "support@acme.example", "cert_pem": cert, "key_pem": pki["alice"].key.read_text(),
           "mailbox_id": box_id}
    async with admin_http.post("/api/v1/mail/smime", json=bad, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 400 and "key_pem" in (await r.json())["fields"]
    good = {**bad, "key_pem": key}
    async with admin_http.post("/api/v1/mail/smime", json=good, headers={"X-CSRF-Token": token}) as r:
        assert r.status == 201
        shown = await r.json()
    assert shown["has_key"] and "key_pem" not in shown

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", app.supervisor.service("mail").smtp_port, timeout=10) as c:
            c.starttls(context=ssl.create_default_context(cafile=str(app.data.cert)))
            c.sendmail("alice@customer.example", ["support@acme.example"],
                       make_mail(message_id="<signme@customer.example>"))
    await asyncio.get_running_loop().run_in_executor(None, send)
    for _ in range(300):
        row = await app.db.call(lambda: MailOutbox.get_or_none(MailOutbox.state == "sent"))
        if row:
            break
        await asyncio.sleep(0.1)
    assert row is not None
    received = [r for r in smtp_sink.received() if b"signme@customer.example" in r][-1]  # the sink outlives a test
    path = tmp_path / "received.eml"
    path.write_bytes(received)
    done = openssl("smime", "-verify", "-in", path, "-CAfile", pki["ca"], "-purpose", "any")
    assert done.returncode == 0, done.stderr
    assert b"Signed receipt." in done.stdout
