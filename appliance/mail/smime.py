"""S/MIME (RFC 8551) for the mail channel: verify and decrypt inbound, sign and encrypt outbound (C4).

Signing, encryption and decryption are `cryptography`'s PKCS #7 functions; verification is
appliance.mail.cms. The MIME framing (which bytes are signed, which headers travel outside) is here.
"""
from __future__ import annotations

import base64
import datetime
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from appliance.mail import cms
from appliance.mail.errors import MailParseError, SmimeError
from appliance.mail.parse import ParsedMail, parse_mail

_HEADERS_ONLY = BytesParser(policy=policy.compat32)
_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\r\n]+)"?', re.IGNORECASE)
# Headers that describe the content travel inside the S/MIME entity; the rest stay outside (RFC 8551 §3.1).
CONTENT_HEADERS = ("content-", "mime-version")


@dataclass
class SmimeKeys:
    """Key material for S/MIME, as plain PEM so it can travel to a worker process."""

    own: list[tuple[bytes, bytes]] = field(default_factory=list)   # (certificate, private key) of our mailboxes
    trusted: list[bytes] = field(default_factory=list)              # CA and correspondent certificates

    def certificates(self) -> list[x509.Certificate]:
        """Every certificate we trust (ours included)."""
        return [x509.load_pem_x509_certificate(c) for c in self.trusted + [c for c, _ in self.own]]


def canonical(raw: bytes) -> bytes:
    """CRLF line ends, as signatures are computed over (RFC 8551 §3.1.1)."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    at = raw.find(b"\r\n\r\n")
    return (raw, b"") if at < 0 else (raw[:at + 2], raw[at + 4:])


def signed_parts(raw: bytes) -> tuple[bytes, bytes]:
    """(signed entity, signature DER) of a multipart/signed mail, byte for byte (RFC 1847 §2.1)."""
    raw = canonical(raw)
    head, body = _split_head(raw)
    match = _BOUNDARY.search(head.replace(b"\r\n\t", b" ").replace(b"\r\n ", b" "))
    if not match:
        raise SmimeError("multipart/signed without a boundary")
    delimiter = b"--" + match.group(1).strip()
    chunks = re.split(rb"(?:^|\r\n)" + re.escape(delimiter) + rb"(?:--)?[ \t]*\r\n", b"\r\n" + body)
    parts = chunks[1:3]
    if len(parts) < 2:
        raise SmimeError("multipart/signed needs the content and the signature part")
    sig_head, sig_body = _split_head(parts[1])
    try:
        der = base64.b64decode(sig_body, validate=False)
    except ValueError as exc:
        raise SmimeError(f"signature part is not base64: {exc}") from None
    return parts[0], der


def _trust(sig: cms.Signature, keys: SmimeKeys, now: datetime.datetime) -> str:
    cert = sig.certificate
    if cert is None:
        return "unknown signer"
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        return "certificate expired or not yet valid"
    for anchor in keys.certificates():
        if anchor == cert:
            return ""
        try:
            cert.verify_directly_issued_by(anchor)
            return ""
        except (ValueError, TypeError, InvalidSignature):
            continue
    return "signer not trusted"


def _describe(results: list[cms.Signature], keys: SmimeKeys) -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    texts = []
    for r in results:
        who = r.signer_email or "unknown signer"
        if not r.valid:
            texts.append(f"signed: INVALID ({who}: {r.reason})")
            continue
        trust = _trust(r, keys, now)
        texts.append(f"signed: valid ({who})" + (f", {trust}" if trust else ", trusted"))
    return "; ".join(texts)


def _valid_certificates(results: list[cms.Signature]) -> list[str]:
    return [r.certificate.public_bytes(serialization.Encoding.PEM).decode() for r in results
            if r.valid and r.certificate is not None]


def _rewrap(outer_raw: bytes, entity: bytes) -> bytes:
    """The outer headers (From, Subject …) around the inner entity's content headers and body."""
    head, _ = _split_head(canonical(outer_raw))
    msg = _HEADERS_ONLY.parsebytes(head, headersonly=True)
    keep = [(k, v) for k, v in msg.items() if not k.lower().startswith(CONTENT_HEADERS)]
    lines = b"".join(f"{k}: {v}\r\n".encode("utf-8", "surrogateescape") for k, v in keep)
    return lines + canonical(entity)


class SmimeInbound:
    """Unwraps S/MIME mails for intake; picklable (PEM only) so it can run in the parsing pool."""

    def __init__(self, keys: SmimeKeys | None = None) -> None:
        self.keys = keys or SmimeKeys()

    def unwrap(self, raw: bytes, mail: ParsedMail) -> tuple[ParsedMail, str]:
        """(the mail as the sender wrote it, a status line); plain mails come back unchanged with ""."""
        mail, status, _ = self.unwrap_with_signers(raw, mail)
        return mail, status

    def unwrap_with_signers(self, raw: bytes, mail: ParsedMail) -> tuple[ParsedMail, str, list[str]]:
        """`unwrap`, plus the PEM certificates of the valid signatures (partners to encrypt for later)."""
        ctype = mail.content_type
        smime_type = mail.headers.get("content-type", "").lower()
        status: list[str] = []
        signers: list[str] = []
        for _ in range(3):  # signed inside encrypted inside signed is as deep as real clients go
            if ctype == "multipart/signed":
                entity, der = signed_parts(raw)
                _, results = cms.verify(der, entity)
                status.append(_describe(results, self.keys))
                signers += _valid_certificates(results)
            elif ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime") and "signed-data" in smime_type:
                entity, results = cms.verify(base64.b64decode(_split_head(canonical(raw))[1]))
                status.append(_describe(results, self.keys))
                signers += _valid_certificates(results)
            elif ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
                entity = self.decrypt(raw)
                status.append("encrypted: decrypted")
            else:
                break
            raw = _rewrap(raw, entity)
            try:
                mail = parse_mail(raw)
            except MailParseError as exc:
                raise SmimeError(f"the protected content is not a mail: {exc}") from None
            ctype, smime_type = mail.content_type, mail.headers.get("content-type", "").lower()
        return mail, "; ".join(status), signers

    def decrypt(self, raw: bytes) -> bytes:
        """The inner entity, with the first of our keys that opens the envelope."""
        if not self.keys.own:
            raise SmimeError("encrypted mail, but no mailbox has an S/MIME key")
        entity = canonical(raw)
        head, body = _split_head(entity)
        smime = b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n" \
                b"Content-Transfer-Encoding: base64\r\n\r\n" + body
        for cert_pem, key_pem in self.keys.own:
            cert = x509.load_pem_x509_certificate(cert_pem)
            key = serialization.load_pem_private_key(key_pem, None)
            try:
                return pkcs7.pkcs7_decrypt_smime(smime, cert, key, [])
            except ValueError:
                continue  # not addressed to this key
        raise SmimeError("encrypted for a key this appliance does not have")


def content_entity(msg: EmailMessage) -> bytes:
    """The part of a message that gets signed or encrypted: its content headers and body."""
    inner = EmailMessage(policy=policy.SMTP)
    for k, v in msg.items():
        if k.lower().startswith("content-"):
            inner[k] = v
    inner.set_payload(msg.get_payload())
    return canonical(inner.as_bytes(policy=policy.SMTP))


def _outer(msg: EmailMessage, protected: bytes) -> EmailMessage:
    out = BytesParser(policy=policy.SMTP).parsebytes(protected)
    for k, v in msg.items():
        if not k.lower().startswith(CONTENT_HEADERS) and k not in out:
            out[k] = v
    return out


def sign(msg: EmailMessage, cert_pem: bytes, key_pem: bytes) -> EmailMessage:
    """A multipart/signed (detached, SHA-256) version of `msg` (RFC 8551 §3.5)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, None)
    signed = (pkcs7.PKCS7SignatureBuilder().set_data(content_entity(msg)).add_signer(cert, key, hashes.SHA256())
              .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature]))
    return _outer(msg, signed)


def encrypt(msg: EmailMessage, recipient_pems: list[bytes]) -> EmailMessage:
    """An application/pkcs7-mime enveloped-data version of `msg` for these recipients (RFC 8551 §3.3)."""
    if not recipient_pems:
        raise SmimeError("no recipient certificates to encrypt for")
    builder = pkcs7.PKCS7EnvelopeBuilder().set_data(content_entity(msg))
    for pem in recipient_pems:
        builder = builder.add_recipient(x509.load_pem_x509_certificate(pem))
    return _outer(msg, builder.encrypt(serialization.Encoding.SMIME, []))
