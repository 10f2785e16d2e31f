"""IMAP and POP3 sessions (imaplib/poplib, blocking: the caller runs them in an executor).

Each session lists what waits at the server, fetches raw messages, and acknowledges them; the fetch
loop spools and fsyncs before it calls `ack`, so a crash in between only causes a re-fetch.
"""
from __future__ import annotations

import imaplib
import poplib
import re
import select
import ssl
from dataclasses import dataclass
from typing import Protocol

from appliance.mail.errors import MailTransportError
from appliance.mail.tls import check_pin, client_context

TIMEOUT_S = 30.0
IDLE_TAG = b"APIDLE"
_FETCH_UID = re.compile(rb"UID (\d+)")


@dataclass
class ServerConfig:
    """Where and how to log in."""

    host: str
    port: int
    username: str
    password: str
    security: str = "tls"          # tls (implicit), starttls
    ca_file: str = ""
    pin_sha256: str = ""
    folder: str = "INBOX"
    timeout_s: float = TIMEOUT_S


class MailSource(Protocol):
    """What the fetch loop needs from a server session."""

    can_wait: bool

    def connect(self) -> None:
        """Connect, secure, check the certificate, log in."""

    def pending(self) -> list[str]:
        """Ids of messages waiting at the server."""

    def fetch(self, ids: list[str]) -> list[tuple[str, bytes]]:
        """(id, raw) of those messages."""

    def ack(self, ids: list[str]) -> None:
        """Tell the server it may forget these messages (only after the spool fsync)."""

    def wait(self, timeout_s: float) -> bool:
        """Block up to timeout_s for news (IMAP IDLE); True if the server announced some."""

    def close(self) -> None:
        """Log out, ignoring errors."""



def open_imap(c: ServerConfig) -> imaplib.IMAP4:
    """An IMAP connection secured by implicit TLS or STARTTLS, its certificate checked (and pinned), not logged in."""
    ctx = client_context(c.ca_file, c.pin_sha256)
    if c.security == "tls":
        conn = imaplib.IMAP4_SSL(c.host, c.port, ssl_context=ctx, timeout=c.timeout_s)
    else:
        conn = imaplib.IMAP4(c.host, c.port, timeout=c.timeout_s)
        if "STARTTLS" not in conn.capabilities:
            conn.shutdown()
            raise MailTransportError(f"{c.host}:{c.port} offers no STARTTLS; refusing to log in in clear")
        conn.starttls(ssl_context=ctx)
    try:
        check_pin(conn.sock, c.pin_sha256)
    except BaseException:
        conn.shutdown()
        raise
    return conn


def open_pop3(c: ServerConfig) -> poplib.POP3:
    """A POP3 connection secured by implicit TLS or STLS (RFC 2595), its certificate checked, not logged in."""
    ctx = client_context(c.ca_file, c.pin_sha256)
    if c.security == "tls":
        conn = poplib.POP3_SSL(c.host, c.port, context=ctx, timeout=c.timeout_s)
    else:
        conn = poplib.POP3(c.host, c.port, timeout=c.timeout_s)
        if "STLS" not in conn.capa():
            conn.close()
            raise MailTransportError(f"{c.host}:{c.port} offers no STLS; refusing to log in in clear")
        conn.stls(context=ctx)
    try:
        check_pin(conn.sock, c.pin_sha256)
    except BaseException:
        conn.close()
        raise
    return conn

def _wrap(what: str, exc: BaseException) -> MailTransportError:
    return MailTransportError(f"{what}: {type(exc).__name__}: {exc}")


class ImapSource:
    """IMAP4rev1 (RFC 3501): UID SEARCH/FETCH BODY.PEEK[], ack by \\Deleted + (UID) EXPUNGE; IDLE (RFC 2177)."""

    def __init__(self, conf: ServerConfig, use_idle: bool = True) -> None:
        self.conf, self.use_idle = conf, use_idle
        self.conn: imaplib.IMAP4 | None = None
        self.can_wait = False
        self.uidplus = False

    def connect(self) -> None:
        """Connect with implicit TLS or STARTTLS, check the pin, log in, select the folder."""
        c = self.conf
        try:
            self.conn = conn = open_imap(c)
            conn.login(c.username, c.password)
            typ, data = conn.capability()  # RFC 3501 §6.2.3: capabilities may change after login
            if typ == "OK" and data and data[-1]:
                conn.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
            typ, data = conn.select(_quote(c.folder))
            if typ != "OK":
                raise MailTransportError(f"cannot select {c.folder!r}: {data!r}")
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
            self.close()
            raise _wrap(f"IMAP {c.host}:{c.port}", exc) from exc
        caps = conn.capabilities
        self.can_wait = self.use_idle and "IDLE" in caps
        self.uidplus = "UIDPLUS" in caps

    def _cmd(self, *args: str) -> list:
        assert self.conn is not None
        try:
            typ, data = self.conn.uid(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise _wrap(f"IMAP UID {args[0]}", exc) from exc
        if typ != "OK":
            raise MailTransportError(f"IMAP UID {args[0]} answered {typ}: {data!r}")
        return data

    def pending(self) -> list[str]:
        """UIDs not yet marked \\Deleted, ascending."""
        data = self._cmd("SEARCH", "UNDELETED")
        return [u.decode() for u in b" ".join(d for d in data if d).split()]

    def fetch(self, ids: list[str]) -> list[tuple[str, bytes]]:
        """Raw messages; BODY.PEEK keeps \\Seen unset until we acknowledge."""
        data = self._cmd("FETCH", ",".join(ids), "(UID BODY.PEEK[])")
        out = []
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                m = _FETCH_UID.search(item[0])
                if m:
                    out.append((m.group(1).decode(), item[1]))
        return out

    def ack(self, ids: list[str]) -> None:
        """\\Deleted then expunge: UID EXPUNGE (RFC 4315) removes only ours when the server has it."""
        self._cmd("STORE", ",".join(ids), "+FLAGS.SILENT", "(\\Deleted)")
        if self.uidplus:
            self._cmd("EXPUNGE", ",".join(ids))
        else:
            try:
                self.conn.expunge()
            except (OSError, imaplib.IMAP4.error) as exc:
                raise _wrap("IMAP EXPUNGE", exc) from exc

    def wait(self, timeout_s: float) -> bool:
        """IDLE for up to timeout_s; True when the server announced EXISTS or RECENT."""
        conn = self.conn
        assert conn is not None
        news = False
        try:
            conn.send(IDLE_TAG + b" IDLE\r\n")
            line = conn.readline()
            if not line.startswith(b"+"):
                raise MailTransportError(f"IDLE refused: {line!r}")
            # Wait with select(), never a socket timeout (a timed-out socket file refuses all further reads)
            # and never a read: readable may be only a TLS record without data (a session ticket), and a
            # read would then block. Whatever arrived is read after DONE, which the server must answer.
            pending = getattr(conn.sock, "pending", lambda: 0)()
            if not pending:
                select.select([conn.sock], [], [], timeout_s)
            conn.send(b"DONE\r\n")
            while True:  # untagged lines may arrive before the tagged end of IDLE
                line = conn.readline()
                if not line:
                    raise MailTransportError("connection closed during IDLE")
                if line.startswith(IDLE_TAG):
                    break
                news = news or b"EXISTS" in line or b"RECENT" in line
        except (OSError, imaplib.IMAP4.error) as exc:
            raise _wrap("IMAP IDLE", exc) from exc
        return news

    def close(self) -> None:
        """Log out, ignoring errors (the connection may already be gone)."""
        if self.conn is not None:
            try:
                self.conn.logout()
            except (OSError, imaplib.IMAP4.error, ssl.SSLError):
                pass
            self.conn = None


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Pop3Source:
    """POP3 (RFC 1939) with UIDL; DELE takes effect at QUIT (§6), so `ack` ends the session."""

    can_wait = False

    def __init__(self, conf: ServerConfig) -> None:
        self.conf = conf
        self.conn: poplib.POP3 | None = None
        self._numbers: dict[str, int] = {}

    def connect(self) -> None:
        """Connect with implicit TLS or STLS (RFC 2595), check the pin, log in."""
        c = self.conf
        try:
            self.conn = conn = open_pop3(c)
            conn.user(c.username)
            conn.pass_(c.password)
        except (OSError, poplib.error_proto, ssl.SSLError) as exc:
            self.close()
            raise _wrap(f"POP3 {c.host}:{c.port}", exc) from exc

    def pending(self) -> list[str]:
        """UIDLs of the messages in the maildrop."""
        try:
            _, lines, _ = self.conn.uidl()
        except (OSError, poplib.error_proto) as exc:
            raise _wrap("POP3 UIDL", exc) from exc
        self._numbers = {}
        for line in lines:
            num, _, uid = line.decode("ascii", "replace").partition(" ")
            self._numbers[uid.strip()] = int(num)
        return list(self._numbers)

    def fetch(self, ids: list[str]) -> list[tuple[str, bytes]]:
        """RETR each; lines are re-joined with CRLF (poplib strips them and the dot-stuffing)."""
        out = []
        for uid in ids:
            try:
                _, lines, _ = self.conn.retr(self._numbers[uid])
            except (OSError, poplib.error_proto) as exc:
                raise _wrap("POP3 RETR", exc) from exc
            out.append((uid, b"\r\n".join(lines) + b"\r\n"))
        return out

    def ack(self, ids: list[str]) -> None:
        """DELE each, then QUIT so the server commits the deletions."""
        try:
            for uid in ids:
                self.conn.dele(self._numbers[uid])
            self.conn.quit()
        except (OSError, poplib.error_proto) as exc:
            raise _wrap("POP3 DELE/QUIT", exc) from exc
        finally:
            self.conn = None

    def wait(self, timeout_s: float) -> bool:
        """POP3 has no push; the caller polls."""
        return False

    def close(self) -> None:
        """End the session without committing deletions when possible (RSET is implied by a drop)."""
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None
