"""Client TLS for mail servers: verify against a CA bundle, or trust exactly one pinned certificate (A13)."""
from __future__ import annotations

import hashlib
import ssl

from appliance.mail.errors import CertificatePinError


def normalise_pin(pin: str) -> str:
    """A SHA-256 fingerprint as 64 lower-case hex digits (colons and spaces dropped)."""
    return "".join(c for c in pin.lower() if c in "0123456789abcdef")


def client_context(ca_file: str = "", pin_sha256: str = "") -> ssl.SSLContext:
    """TLS 1.2+; with a pin the chain is not checked here, the pin is, right after the handshake."""
    if pin_sha256:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the pin below is stricter than any chain: one certificate only
    else:
        ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def check_pin(sock: ssl.SSLSocket, pin_sha256: str) -> None:
    """Raise CertificatePinError unless the peer's certificate has the pinned SHA-256 fingerprint."""
    if not pin_sha256:
        return
    der = sock.getpeercert(binary_form=True)
    got = hashlib.sha256(der or b"").hexdigest()
    if got != normalise_pin(pin_sha256):
        raise CertificatePinError(f"server certificate SHA-256 {got} does not match the pinned fingerprint")
