"""S/MIME key material as people hand it over: PKCS #12 files, PEM or DER certificates and keys. Pure.

Parsing is `cryptography`'s; here is only which form is which, that key and certificate belong together,
and how a certificate is described in the console (subject, issuer, validity, fingerprint, expiry).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from appliance.mail.errors import SmimeError

EXPIRY_WARNING_DAYS = 30
MAX_UPLOAD_BYTES = 200_000


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, both PEM (the key unencrypted: it is sealed before it is stored)."""

    cert_pem: str
    key_pem: str


def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate from PEM or DER bytes; SmimeError says what was wrong."""
    if not data.strip():
        raise SmimeError("no certificate given")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise SmimeError(f"not a PEM or DER certificate ({exc})") from None


def _key_pem(key: object) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                             serialization.NoEncryption()).decode()


def _check_pair(cert: x509.Certificate, key: object) -> None:
    if key.public_key().public_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined]
                                     serialization.PublicFormat.SubjectPublicKeyInfo) != cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise SmimeError("the private key does not belong to the certificate")


def _passphrase(text: str) -> bytes | None:
    return text.encode() if text else None


def from_pkcs12(data: bytes, passphrase: str) -> KeyPair:
    """Key and certificate out of a PKCS #12 (.p12/.pfx) file."""
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, _passphrase(passphrase))
    except ValueError:
        raise SmimeError("cannot open the PKCS #12 file: wrong passphrase or not a PKCS #12 file") from None
    if key is None or cert is None:
        raise SmimeError("the PKCS #12 file holds no private key with its certificate")
    _check_pair(cert, key)
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key))


def from_pem(cert_data: bytes, key_data: bytes, passphrase: str) -> KeyPair:
    """Key and certificate from separate files (the key PEM, optionally passphrase-protected)."""
    cert = load_certificate(cert_data)
    if not key_data.strip():
        raise SmimeError("no private key given")
    try:
        key = serialization.load_pem_private_key(key_data, _passphrase(passphrase))
    except TypeError:
        raise SmimeError("the private key is protected: give its passphrase" if not passphrase
                         else "the private key is not protected: leave the passphrase empty") from None
    except ValueError:
        raise SmimeError("cannot read the private key: wrong passphrase or not a PEM key") from None
    _check_pair(cert, key)
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key))


def pem_of(cert: x509.Certificate) -> str:
    """The certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def emails_of(cert: x509.Certificate) -> list[str]:
    """The certificate's e-mail addresses: subjectAltName rfc822Name first (RFC 8550 §3), then the subject's."""
    found: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        found += [str(v).lower() for v in san.get_values_for_type(x509.RFC822Name)]
    except x509.ExtensionNotFound:
        pass
    found += [str(a.value).lower() for a in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)]
    return list(dict.fromkeys(found))


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def describe(cert: x509.Certificate, now: datetime.datetime | None = None) -> dict[str, object]:
    """What the console shows of a certificate, with an expiry state: ok, expiring, expired or not_yet_valid."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    before, after = cert.not_valid_before_utc, cert.not_valid_after_utc
    days_left = (after - now).days
    if now > after:
        expiry = "expired"
    elif now < before:
        expiry = "not_yet_valid"
    elif days_left < EXPIRY_WARNING_DAYS:
        expiry = "expiring"
    else:
        expiry = "ok"
    return {"subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "not_before": before.isoformat(), "not_after": after.isoformat(), "days_left": days_left,
            "expiry": expiry, "sha256": fingerprint(cert), "emails": emails_of(cert)}
