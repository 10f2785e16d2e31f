"""IMAP and POP3 sessions against a real dovecot: TLS both ways, CA or pinned certificate, ack, IDLE."""
from __future__ import annotations

import itertools
import threading
import time

import pytest

from appliance.mail.errors import CertificatePinError, MailTransportError
from appliance.mail.sources import ImapSource, Pop3Source, ServerConfig
from tests.appliance.mail.corpus import mail
from tests.appliance.mail.servers import PASSWORD, Dovecot

_users = itertools.count()


def new_user(dovecot: Dovecot, n: int = 0) -> tuple[str, list[bytes]]:
    user = f"box{next(_users)}@acme.example"
    dovecot.add_user(user)
    raws = [mail(subject=f"message {i}", message_id=f"<{user}.{i}@x>") for i in range(n)]
    for raw in raws:
        dovecot.deliver(user, raw)
    return user, raws


def conf(dovecot: Dovecot, user: str, port: str, security: str, **kw) -> ServerConfig:
    return ServerConfig("localhost", dovecot.ports[port], user, PASSWORD, security, **kw)


@pytest.mark.parametrize("port,security,trust", [("imaps", "tls", "ca"), ("imap", "starttls", "pin")])
def test_imap_fetches_then_acks_and_the_mailbox_empties(dovecot: Dovecot, port, security, trust) -> None:
    user, raws = new_user(dovecot, 3)
    trust_kw = {"ca_file": str(dovecot.cert)} if trust == "ca" else {"pin_sha256": dovecot.fingerprint}
    src = ImapSource(conf(dovecot, user, port, security, **trust_kw))
    src.connect()
    ids = src.pending()
    got = src.fetch(ids)
    assert [raw.replace(b"\r\n", b"\n") for _, raw in got] == [r.replace(b"\r\n", b"\n") for r in raws]
    assert dovecot.count(user) == 3  # fetched is not acknowledged
    src.ack(ids)
    assert src.pending() == []
    src.close()
    assert dovecot.count(user) == 0


def test_wrong_pin_or_untrusted_certificate_refuses_before_login(dovecot: Dovecot) -> None:
    user, _ = new_user(dovecot, 1)
    with pytest.raises(CertificatePinError):
        ImapSource(conf(dovecot, user, "imaps", "tls", pin_sha256="00" * 32)).connect()
    with pytest.raises(MailTransportError, match="CERTIFICATE_VERIFY_FAILED"):
        ImapSource(conf(dovecot, user, "imaps", "tls")).connect()  # system trust store: not our test CA
    with pytest.raises(CertificatePinError):
        Pop3Source(conf(dovecot, user, "pop3", "starttls", pin_sha256="ab" * 32)).connect()
    assert dovecot.count(user) == 1
    log = (dovecot.root / "dovecot.log").read_text()
    assert f"Login: user=<{user}>" not in log


def test_bad_password_is_a_transport_error(dovecot: Dovecot) -> None:
    user, _ = new_user(dovecot)
    bad = ServerConfig("localhost", dovecot.ports["imaps"], user, "wrong", "tls", ca_file=str(dovecot.cert))
    with pytest.raises(MailTransportError, match="IMAP"):
        ImapSource(bad).connect()


@pytest.mark.parametrize("port,security", [("pop3s", "tls"), ("pop3", "starttls")])
def test_pop3_fetch_and_dele_commits_at_quit(dovecot: Dovecot, port, security) -> None:
    user, raws = new_user(dovecot, 2)
    src = Pop3Source(conf(dovecot, user, port, security, ca_file=str(dovecot.cert)))
    src.connect()
    ids = src.pending()
    got = src.fetch(ids)
    assert sorted(raw for _, raw in got) == sorted(r.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r") for r in raws)
    src.close()  # dropped without QUIT: nothing deleted (RFC 1939 §6)
    assert dovecot.count(user) == 2
    src = Pop3Source(conf(dovecot, user, port, security, ca_file=str(dovecot.cert)))
    src.connect()
    src.ack(src.pending())
    assert dovecot.count(user) == 0


def test_imap_idle_wakes_on_new_mail(dovecot: Dovecot) -> None:
    user, _ = new_user(dovecot)
    src = ImapSource(conf(dovecot, user, "imaps", "tls", ca_file=str(dovecot.cert)))
    src.connect()
    assert src.can_wait and src.uidplus
    assert src.wait(0.3) is False
    threading.Timer(0.5, dovecot.deliver, (user, mail(message_id="<idle@x>"))).start()
    started = time.monotonic()
    assert src.wait(20) is True
    assert time.monotonic() - started < 15
    assert len(src.pending()) == 1
    src.close()
