"""Mail test servers, started once per module."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

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


@pytest.fixture
async def app(first_boot, app_env, smtp_sink: SmtpSink) -> AsyncIterator:
    """The appliance in-process with its SMTP listener on a free port and the test relay configured."""
    from appliance import config
    from appliance.runtime import Appliance
    env = {**app_env, "APPLIANCE_MAIL_SMTP_PORT": "0", "APPLIANCE_MAIL_SMTP_HOST": "127.0.0.1",
           "APPLIANCE_MAIL_MAX_MESSAGE_MB": "1",
           "APPLIANCE_MAIL_RELAY_URL": f"starttls://relay:relay-pw@localhost:{smtp_sink.port}",
           "APPLIANCE_MAIL_RELAY_CA_FILE": str(smtp_sink.cert)}
    appliance = Appliance(config.load(first_boot.root, env))
    appliance.first_boot_password = first_boot.admin_password  # for admin_http
    await appliance.start()
    yield appliance
    await appliance.stop()


@pytest.fixture
async def admin_http(app) -> AsyncIterator:
    """An HTTPS client logged in as the admin of `app`."""
    import ssl

    import aiohttp

    from tests.appliance.webui.helpers import login_admin
    ctx = ssl.create_default_context(cafile=str(app.data.cert))
    async with aiohttp.ClientSession(base_url=f"https://localhost:{app.web_port}",
                                     connector=aiohttp.TCPConnector(ssl=ctx), cookie_jar=aiohttp.CookieJar()) as http:
        await login_admin(http, app.first_boot_password)
        yield http
