"""Self-test of the mail accounts and the relay for the console and the admin page: one line per step
(resolve, connect, TLS, login, mailbox / EHLO, STARTTLS, AUTH) with its result; the first failure ends
that server's test. Blocking (imaplib, poplib, smtplib): run it in an executor. Nothing is fetched,
deleted or sent.
"""
from __future__ import annotations

import imaplib
import poplib
import smtplib
import socket
import ssl
from typing import Any

from appliance.mail.errors import MailError
from appliance.mail.smtp_out import RelayConfig
from appliance.mail.sources import ServerConfig, _quote, open_imap, open_pop3
from appliance.mail.tls import check_pin, client_context
from appliance.selftest import OK, SKIPPED, StepFailed, StepLog

ERRORS = (OSError, ssl.SSLError, imaplib.IMAP4.error, poplib.error_proto, smtplib.SMTPException, MailError)


def steps_for(heading: str) -> StepLog:
    """A step log that counts the mail libraries' errors as a failed step."""
    return StepLog(heading, ERRORS)


def _resolve_and_connect(steps: StepLog, host: str, port: int, timeout: float) -> None:
    infos = steps.run("resolve", lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM),
                      lambda r: ", ".join(sorted({i[4][0] for i in r}))[:60])
    # A bare TCP connection first, so "the port is closed" and "TLS is wrong" are told apart.
    steps.run("connect", lambda: socket.create_connection(infos[0][4][:2], timeout).close(),
              lambda _: f"tcp {host}:{port}")


def _tls_detail(sock: Any, pin: str) -> str:
    version = sock.version() if hasattr(sock, "version") else "?"
    return f"{version}, certificate {'matches the pin' if pin else 'verified'}"


def check_imap(conf: ServerConfig) -> list[str]:
    """IMAP: resolve, connect, TLS (implicit or STARTTLS), login, select the folder."""
    steps = steps_for(f"IMAP {conf.security} {conf.host}:{conf.port} user {conf.username}")
    conn: imaplib.IMAP4 | None = None
    try:
        _resolve_and_connect(steps, conf.host, conf.port, conf.timeout_s)

        def secure() -> imaplib.IMAP4:
            nonlocal conn
            conn = open_imap(conf)
            return conn
        steps.run("TLS", secure, lambda c: _tls_detail(c.sock, conf.pin_sha256))
        steps.run("login", lambda: conn.login(conf.username, conf.password), lambda _: conf.username)
        steps.run("select", lambda: _select(conn, conf.folder),
                  lambda n: f"{conf.folder}: {n} message{'s' if n != 1 else ''}")
    except StepFailed:
        pass
    finally:
        if conn is not None:
            try:
                conn.logout()
            except ERRORS:
                pass
    return steps.lines


def _select(conn: imaplib.IMAP4, folder: str) -> int:
    typ, data = conn.select(_quote(folder), readonly=True)  # EXAMINE: the test changes no flags
    if typ != "OK":
        raise MailError(f"the server answered {typ}: {data!r}")
    return int(data[0] or 0)


def check_pop3(conf: ServerConfig) -> list[str]:
    """POP3: resolve, connect, TLS (implicit or STLS), login, STAT."""
    steps = steps_for(f"POP3 {conf.security} {conf.host}:{conf.port} user {conf.username}")
    conn: poplib.POP3 | None = None
    try:
        _resolve_and_connect(steps, conf.host, conf.port, conf.timeout_s)

        def secure() -> poplib.POP3:
            nonlocal conn
            conn = open_pop3(conf)
            return conn

        def login() -> None:
            conn.user(conf.username)
            conn.pass_(conf.password)
        steps.run("TLS", secure, lambda c: _tls_detail(c.sock, conf.pin_sha256))
        steps.run("login", login, lambda _: conf.username)
        steps.run("STAT", conn.stat, lambda s: f"{s[0]} message{'s' if s[0] != 1 else ''} waiting")
    except StepFailed:
        pass
    finally:
        if conn is not None:
            try:
                conn.quit()  # nothing was marked deleted: QUIT commits nothing
            except ERRORS:
                pass
    return steps.lines


def check_relay(relay: RelayConfig) -> list[str]:
    """The outgoing relay: resolve, connect, EHLO, STARTTLS (or implicit TLS), AUTH; no mail is sent."""
    steps = steps_for(f"relay {relay.security}://{relay.host}:{relay.port}"
                  + (f" user {relay.username}" if relay.username else ""))
    smtp: smtplib.SMTP | None = None
    try:
        _resolve_and_connect(steps, relay.host, relay.port, relay.timeout_s)
        ctx = client_context(relay.ca_file, relay.pin_sha256)

        def greet() -> tuple[int, bytes]:
            nonlocal smtp
            if relay.security == "tls":
                smtp = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout_s, context=ctx)
                check_pin(smtp.sock, relay.pin_sha256)
            else:
                smtp = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout_s)
            code, text = smtp.ehlo()
            if code != 250:
                raise smtplib.SMTPResponseException(code, text)
            return code, text
        steps.run("EHLO", greet, lambda r: f"{r[0]} {', '.join(sorted(smtp.esmtp_features))[:60]}")
        if relay.security == "starttls":
            def starttls() -> Any:
                if not smtp.has_extn("starttls"):
                    raise MailError("the relay offers no STARTTLS")
                smtp.starttls(context=ctx)
                check_pin(smtp.sock, relay.pin_sha256)
                smtp.ehlo()
                return smtp.sock
            steps.run("STARTTLS", starttls, lambda s: _tls_detail(s, relay.pin_sha256))
        elif relay.security == "tls":
            steps.line("TLS", OK, _tls_detail(smtp.sock, relay.pin_sha256))
        if relay.username:
            steps.run("AUTH", lambda: smtp.login(relay.username, relay.password),
                      lambda r: f"{r[0]} as {relay.username}")
        else:
            steps.line("AUTH", SKIPPED, "no user configured: the relay must accept the appliance without")
    except StepFailed:
        pass
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except ERRORS:
                pass
    return steps.lines


def check_account(name: str, protocol: str, conf: ServerConfig) -> list[str]:
    """One account's test, headed by its name."""
    lines = check_imap(conf) if protocol == "imap" else check_pop3(conf)
    return [f"account {name}: {lines[0]}", *lines[1:]]
