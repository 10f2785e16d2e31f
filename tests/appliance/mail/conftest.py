"""Mail test servers, started once per module."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.appliance.mail.servers import (Dovecot, SmtpSink, cleanup, private_dir, start_dovecot,
                                          start_smtp_sink)


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A real dovecot with IMAP/IMAPS/POP3/POP3S on free ports, running as an unprivileged user."""
    root = private_dir("dovecot-")
    server = start_dovecot(root)
    yield server
    server.stop()
    cleanup(root)


@pytest.fixture(scope="module")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd, another process) requiring STARTTLS and AUTH."""
    root = tmp_path_factory.mktemp("smtp")
    server = start_smtp_sink(root)
    yield server
    server.stop()
    cleanup(root)
