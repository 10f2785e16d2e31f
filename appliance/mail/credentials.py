"""Mail secrets at rest and S/MIME credentials: account passwords and private keys sealed with the store key.

Each sealed value is bound to its row and column (the SecretBox purpose), so a value copied to another row
does not open there. Rows written in plain text (before sealing existed, or straight into the database) are
sealed by `seal_plaintext`, which the mail service runs at start and with every account reload.
Synchronous; call inside a transaction.
"""
from __future__ import annotations

import datetime
import logging

from cryptography.hazmat.primitives import serialization

from appliance.mail import certs
from appliance.mail.errors import SmimeError
from appliance.mail.models import MailAccount, SmimeCredential
from appliance.mail.smime import SmimeKeys
from appliance.security.secrets import SecretBox, SecretError

log = logging.getLogger(__name__)

MAX_LEARNED_PER_MAIL = 4
_REPORTED: set[tuple[int, str]] = set()


def password_purpose(account_id: int) -> str:
    """The associated data an account's sealed password is bound to."""
    return f"mail_account.{account_id}.password"


def key_purpose(credential_id: int) -> str:
    """The associated data a mailbox's sealed private key is bound to."""
    return f"smime_credential.{credential_id}.key"


def set_password(box: SecretBox, account: MailAccount, password: str) -> None:
    """Store an account's password sealed (the row must exist: the seal is bound to its id)."""
    MailAccount.update(password_sealed=box.seal(password, password_purpose(account.id)), password="").where(
        MailAccount.id == account.id).execute()


def password_of(box: SecretBox, account: MailAccount) -> str:
    """The account's password in the clear, for logging in to its server; SecretError if it cannot be opened."""
    if account.password_sealed:
        return box.open(account.password_sealed, password_purpose(account.id))
    return account.password


def key_of(box: SecretBox | None, credential: SmimeCredential) -> str:
    """A mailbox's private key PEM, or "" without one; SecretError if it cannot be opened."""
    if credential.key_sealed:
        if box is None:
            raise SecretError(f"{key_purpose(credential.id)}: sealed, and no key box was given")
        return box.open(credential.key_sealed, key_purpose(credential.id))
    return credential.key_pem


def seal_plaintext(box: SecretBox) -> int:
    """Seal every password and private key still stored in plain text; returns how many were sealed."""
    done = 0
    for account in MailAccount.select().where(MailAccount.password != ""):
        set_password(box, account, account.password)
        done += 1
    for cred in SmimeCredential.select().where(SmimeCredential.key_pem != ""):
        SmimeCredential.update(key_sealed=box.seal(cred.key_pem, key_purpose(cred.id)), key_pem="").where(
            SmimeCredential.id == cred.id).execute()
        done += 1
    for cred in SmimeCredential.select().where(SmimeCredential.sha256 == ""):  # rows from before 0014
        try:
            sha = certs.fingerprint(certs.load_certificate(cred.cert_pem.encode()))
        except SmimeError as exc:  # one broken row must not stop the sealing (and the reload) of the others
            _skipped(cred.id, f"no fingerprint: {exc}")
            continue
        SmimeCredential.update(sha256=sha).where(SmimeCredential.id == cred.id).execute()
    return done


def _skipped(credential_id: int, reason: str) -> None:
    # Logged once per row and reason: the mail service reloads every few seconds.
    if (credential_id, reason) not in _REPORTED:
        _REPORTED.add((credential_id, reason))
        log.warning("S/MIME credential id=%s skipped: %s", credential_id, reason)


def smime_keys(box: SecretBox) -> SmimeKeys:
    """Every mailbox key and trusted certificate (PEM), for unwrapping inbound S/MIME; a row whose certificate
    or key cannot be read (or opened) is logged with its id and reason and left out, the others go on."""
    keys = SmimeKeys()
    for c in SmimeCredential.select().order_by(SmimeCredential.id):
        if not (c.key_sealed or c.key_pem or c.trusted):
            continue
        try:
            cert = c.cert_pem.encode()
            certs.load_certificate(cert)
            if c.key_sealed or c.key_pem:
                key = key_of(box, c).encode()
                serialization.load_pem_private_key(key, password=None)
                keys.own.append((cert, key))
            else:
                keys.trusted.append(cert)
        except SecretError as exc:  # a key sealed under another store key (a restored backup)
            _skipped(c.id, f"its private key cannot be opened: {exc}")
        except SmimeError as exc:
            _skipped(c.id, f"its certificate cannot be read: {exc}")
        except (ValueError, TypeError) as exc:
            _skipped(c.id, f"its private key cannot be read: {exc}")
    return keys


def add_keypair(box: SecretBox, tenant_id: int, mailbox_id: int, email: str,
                pair: certs.KeyPair) -> SmimeCredential:
    """A mailbox's own key and certificate; the key sealed before the row is committed."""
    cert = certs.load_certificate(pair.cert_pem.encode())
    row = SmimeCredential.create(tenant=tenant_id, mailbox=mailbox_id, email=email, cert_pem=pair.cert_pem,
                                 trusted=True, source="upload", sha256=certs.fingerprint(cert))
    row.key_sealed = box.seal(pair.key_pem, key_purpose(row.id))
    row.save()
    return row


def add_partner(tenant_id: int, cert_pem: str, email: str, trusted: bool, source: str = "upload") -> SmimeCredential:
    """A correspondent's (or a CA's) certificate; the same certificate twice in a tenant is one row."""
    cert = certs.load_certificate(cert_pem.encode())
    sha = certs.fingerprint(cert)
    existing = SmimeCredential.get_or_none((SmimeCredential.tenant == tenant_id) & (SmimeCredential.sha256 == sha)
                                           & SmimeCredential.mailbox.is_null())
    if existing is not None:
        if trusted and not existing.trusted:
            existing.trusted = True
            existing.save()
        return existing
    return SmimeCredential.create(tenant=tenant_id, mailbox=None, email=email, cert_pem=cert_pem, trusted=trusted,
                                  source=source, sha256=sha)


def learn_partners(tenant_id: int, sender: str, signer_pems: list[str]) -> int:
    """Keep the certificates of valid signatures by the mail's own sender, to encrypt replies to them later.

    Only a certificate naming the From address is learned, and only while it is valid: a mail signed by
    someone else must not change whom we encrypt for.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    learned = 0
    for pem in signer_pems[:MAX_LEARNED_PER_MAIL]:
        try:
            cert = certs.load_certificate(pem.encode())
        except SmimeError:
            continue  # learning is a courtesy: an odd certificate must never cost the mail its ticket
        if sender.lower() not in certs.emails_of(cert):
            continue
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            continue
        if not SmimeCredential.select().where(SmimeCredential.tenant == tenant_id,
                                              SmimeCredential.sha256 == certs.fingerprint(cert)).exists():
            add_partner(tenant_id, pem, sender.lower(), trusted=False, source="learned")
            learned += 1
    return learned
