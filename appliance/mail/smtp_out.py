"""Sending through the relay (smtplib, blocking: run it in an executor): STARTTLS or TLS, AUTH, pin."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from appliance.mail.errors import MailError, MailTransportError
from appliance.mail.tls import check_pin, client_context

TIMEOUT_S = 60.0
SCHEMES = {"starttls": 587, "tls": 465, "plain": 25}


class SendError(MailTransportError):
    """The relay did not take the mail; `permanent` for a 5xx answer (retrying will not help)."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class RelayConfig:
    """The outgoing relay."""

    host: str
    port: int
    security: str = "starttls"
    username: str = ""
    password: str = ""
    ca_file: str = ""
    pin_sha256: str = ""
    timeout_s: float = TIMEOUT_S


def parse_relay_url(url: str, ca_file: str = "", pin_sha256: str = "") -> RelayConfig:
    """`starttls://user:pw@host:587`, `tls://…:465` or `plain://host:25` (plain only to localhost)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise MailError(f"relay URL {url!r}: expected starttls://, tls:// or plain:// with a host")
    if parts.scheme == "plain" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise MailError("relay URL: plain (unencrypted) is allowed to localhost only")
    return RelayConfig(parts.hostname, parts.port or SCHEMES[parts.scheme], parts.scheme,
                       unquote(parts.username or ""), unquote(parts.password or ""), ca_file, pin_sha256)


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def send(relay: RelayConfig, mail_from: str, rcpt_to: list[str], raw: bytes) -> None:
    """Hand one mail to the relay; raises SendError (permanent or not)."""
    ctx = client_context(relay.ca_file, relay.pin_sha256)
    try:
        if relay.security == "tls":
            smtp = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout_s, context=ctx)
        else:
            smtp = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout_s)
        with smtp:
            smtp.ehlo()
            if relay.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SendError(f"{relay.host} offers no STARTTLS", permanent=False)
                smtp.starttls(context=ctx)
                smtp.ehlo()
            if relay.security != "plain":
                check_pin(smtp.sock, relay.pin_sha256)
            if relay.username:
                smtp.login(relay.username, relay.password)
            refused = smtp.sendmail(mail_from, rcpt_to, raw)
            if refused:  # some recipients refused, the rest accepted: report, do not resend to the others
                raise SendError(f"refused recipients: {refused}", permanent=True)
    except SendError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [c for c, _ in exc.recipients.values()]
        raise SendError(f"all recipients refused: {exc.recipients}", all(_permanent(c) for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"{relay.host} answered {exc.smtp_code} {exc.smtp_error!r}", _permanent(exc.smtp_code)) from exc
    except (smtplib.SMTPException, OSError, ssl.SSLError, MailTransportError) as exc:
        raise SendError(f"{relay.host}:{relay.port}: {type(exc).__name__}: {exc}", permanent=False) from exc
