"""Real mail servers for tests: dovecot (IMAP + POP3 over TLS) run as an unprivileged user on free ports,
and an aiosmtpd SMTP server in a separate process that writes what it receives into a directory."""
from __future__ import annotations

import datetime
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.pg import free_port
from tests.tools import require_tool, stop_server

PASSWORD = "Dovecot-Test-Pw-1"


def make_cert(cert: Path, key: Path, name: str = "localhost") -> str:
    """A self-signed P-256 certificate for localhost/127.0.0.1; returns its SHA-256 hex fingerprint."""
    k = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    c = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(k.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(
             ipaddress.ip_address("127.0.0.1"))]), critical=False)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .sign(k, hashes.SHA256()))
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    return c.fingerprint(hashes.SHA256()).hex()


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class Dovecot:
    """A running dovecot; `deliver` drops mail into a user's Maildir like an MDA would."""

    root: Path
    proc: subprocess.Popen
    ports: dict[str, int]
    cert: Path
    fingerprint: str
    uid: int
    gid: int
    _n: int = 0

    def maildir(self, user: str) -> Path:
        return self.root / "home" / user / "Maildir"

    def add_user(self, user: str) -> None:
        """A passwd-file user with its Maildir."""
        home = self.root / "home" / user
        for sub in ("new", "cur", "tmp"):
            (home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
        for p in (home, home / "Maildir", *[home / "Maildir" / s for s in ("new", "cur", "tmp")]):
            os.chown(p, self.uid, self.gid)
        # One passwd-file per user: dovecot checks a file for changes at most once a second, a new file
        # is read on first use.
        (self.root / "users" / user).write_text(f"{user}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{home}::\n")

    def deliver(self, user: str, raw: bytes) -> None:
        """Write a message into Maildir/new (tmp first, then rename, as maildir(5) requires)."""
        self._n += 1
        name = f"{time.time_ns()}.P{os.getpid()}Q{self._n}.test"
        tmp = self.maildir(user) / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, self.maildir(user) / "new" / name)

    def count(self, user: str) -> int:
        """Messages still in the mailbox (new + cur, without ones flagged deleted)."""
        md = self.maildir(user)
        cur = [p for p in (md / "cur").iterdir() if not p.name.split(":2,")[-1].count("T")]
        return len(list((md / "new").iterdir())) + len(cur)

    def stop(self) -> None:
        stop_server(self.proc, 10)


def private_dir(prefix: str) -> Path:
    """A directory in /tmp the unprivileged server user can reach (pytest's tmp_path is root-only)."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def start_dovecot(root: Path) -> Dovecot:
    """Start dovecot as an unprivileged user (nobody when the tests run as root)."""
    binary = require_tool("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else "dovecot",
                          "dovecot-imapd")
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    else:
        user = pwd.getpwuid(os.geteuid())
        prefix = []
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir(exist_ok=True)
    cert, key = root / "cert.pem", root / "key.pem"
    fingerprint = make_cert(cert, key)
    (root / "users").mkdir(exist_ok=True)
    ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    conf = root / "dovecot.conf"
    conf.write_text(f"""
protocols = imap pop3
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
default_login_user = {user.pw_name}
default_internal_user = {user.pw_name}
default_internal_group = {user.pw_gid and __import__('grp').getgrgid(user.pw_gid).gr_name}
first_valid_uid = 1
auth_verbose = yes
mail_location = maildir:~/Maildir
mail_fsync = never
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = {root}/users/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {ports['imap']}
  }}
  inet_listener imaps {{
    port = {ports['imaps']}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    port = {ports['pop3']}
  }}
  inet_listener pop3s {{
    port = {ports['pop3s']}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth-worker {{
  user = {user.pw_name}
}}
service imap {{
  process_limit = 50
}}
""")
    os.system(f"chown -R {user.pw_uid}:{user.pw_gid} {root}")
    proc = subprocess.Popen([*prefix, binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=open(root / "stderr.log", "wb"))
    server = Dovecot(root, proc, ports, cert, fingerprint, user.pw_uid, user.pw_gid)
    try:
        for port in ports.values():
            _wait_port(port)
    except RuntimeError:
        server.stop()
        log = root / "dovecot.log"
        raise RuntimeError("dovecot did not start: " + (root / "stderr.log").read_text()
                           + (log.read_text() if log.exists() else "")) from None
    return server


SMTP_SINK = r'''
import asyncio, os, sys, time
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}.eml"
        path = os.path.join(sys.argv[1], name)
        with open(path + ".tmp", "wb") as fh:
            fh.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from,
                      ",".join(envelope.rcpt_tos))).encode() + envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 stored"

import ssl
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])

def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult
    ok = auth_data.login == b"relay" and auth_data.password == b"relay-pw"
    return AuthResult(success=ok)

c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[2]), tls_context=ctx, require_starttls=True,
               authenticator=authenticator, auth_require_tls=True, auth_required=True)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
'''


@dataclass
class SmtpSink:
    """aiosmtpd in its own process: STARTTLS required, AUTH PLAIN/LOGIN relay/relay-pw; mail into `inbox`."""

    proc: subprocess.Popen
    port: int
    inbox: Path
    cert: Path

    def received(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted(self.inbox.glob("*.eml"))]

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_smtp_sink(root: Path) -> SmtpSink:
    """Start the receiving SMTP server process."""
    root.mkdir(parents=True, exist_ok=True)
    inbox = root / "inbox"
    inbox.mkdir(exist_ok=True)
    cert, key = root / "smtp-cert.pem", root / "smtp-key.pem"
    make_cert(cert, key)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SMTP_SINK, str(inbox), str(port), str(cert), str(key)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    return SmtpSink(proc, port, inbox, cert)


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
