"""Small S/MIME identities for tests: a certificate naming an e-mail address, its key, PKCS #12 and PEM forms."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass
class Identity:
    """A self-signed S/MIME identity."""

    email: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, passphrase: str = "") -> bytes:
        enc = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
               else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def pkcs12(self, passphrase: str) -> bytes:
        return pkcs12.serialize_key_and_certificates(b"test", self.key, self.cert, None,
                                                     serialization.BestAvailableEncryption(passphrase.encode()))


def identity(email: str, days: int = 365, name: str | None = None, start_days: int = -1) -> Identity:
    """A 2048-bit RSA identity valid from `start_days` to `days` from now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name or email.split("@")[0].title()),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Org")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=start_days))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
            .sign(key, hashes.SHA256()))
    return Identity(email, cert, key)
