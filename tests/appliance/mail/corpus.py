"""Small mail builders for tests."""
from __future__ import annotations

from email.message import EmailMessage
from email import policy


def mail(sender: str = "alice@customer.example", to: str = "support@acme.example", subject: str = "Help",
         body: str = "My printer is on fire.", message_id: str | None = "<m1@customer.example>",
         headers: dict[str, str] | None = None, html: str | None = None) -> bytes:
    """A simple mail as bytes."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    if message_id:
        msg["Message-ID"] = message_id
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def dsn(original_id: str, recipient: str, to: str = "support@acme.example") -> bytes:
    """A delivery status notification (RFC 3464) about one of our mails."""
    boundary = "dsn-boundary"
    return (f"From: MAILER-DAEMON@mx.customer.example\r\nTo: {to}\r\nSubject: Undelivered Mail\r\n"
            f"Message-ID: <dsn-{original_id}>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
            f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; mx.customer.example\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"From: support@acme.example\r\nTo: {recipient}\r\nMessage-ID: <{original_id}>\r\nSubject: Re: x\r\n\r\n"
            f"--{boundary}--\r\n").encode()
