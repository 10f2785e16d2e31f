"""SMS out by mail: an SMS for a number becomes a mail to {number}@gateway through the mail outbox and
the relay (aiosmtpd in its own process, STARTTLS and AUTH), the SMS row marked sent once."""
from __future__ import annotations

from email import message_from_bytes, policy
from typing import AsyncIterator, Iterator

import aiohttp
import pytest

from appliance.errors import ConfigError
from appliance.mail.models import MailOutbox
from appliance.sms import mail_gateway
from appliance.sms.models import SmsOutbox
from tests.appliance.api.client import admin_client
from tests.appliance.mail.servers import SmtpSink, cleanup, start_smtp_sink
from tests.appliance.sms.conftest import CUSTOMER_NUMBER, make_org, until, until_true


@pytest.fixture(scope="module")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    root = tmp_path_factory.mktemp("smtp")
    server = start_smtp_sink(root)
    yield server
    server.stop()
    cleanup(root)


@pytest.fixture
def sms_env(app_env: dict[str, str], smtp_sink: SmtpSink) -> dict[str, str]:
    return {**app_env, "APPLIANCE_SMS_EMULATOR_REPORTS_S": "0", "APPLIANCE_SMS_POLL_S": "2",
            "APPLIANCE_MAIL_SMTP_PORT": "0", "APPLIANCE_MAIL_SMTP_HOST": "127.0.0.1",
            "APPLIANCE_MAIL_RELAY_URL": f"starttls://relay:relay-pw@localhost:{smtp_sink.port}",
            "APPLIANCE_MAIL_RELAY_CA_FILE": str(smtp_sink.cert),
            "APPLIANCE_SMS_MAIL_GATEWAY": "{number}@sms.example.net",
            "APPLIANCE_SMS_MAIL_GATEWAY_FROM": "alerts@acme.example", "APPLIANCE_SMS_GATEWAY_USE": "always"}


async def test_sms_goes_out_as_mail_to_the_gateway(app, web: aiohttp.ClientSession, smtp_sink: SmtpSink) -> None:
    org = await app.db.call(make_org, "Acme")
    before = len(smtp_sink.received())
    admin = await admin_client(web, app.first_boot_password)
    text = "Störung behoben – Ihr Anschluss läuft wieder. 😀"
    queued = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": text, "tenant_id": org["tenant_id"]},
                              expect=202)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.state == "sent"))
    assert row is not None and row.modem == "mail-gateway"
    assert await until_true(lambda: len(smtp_sink.received()) == before + 1, timeout=30)
    raw = smtp_sink.received()[-1]
    assert b"X-Envelope-To: 491701234567@sms.example.net" in raw
    assert b"X-Envelope-From: alerts@acme.example" in raw
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail.get_content().strip() == text and mail["Subject"] is None
    # The sink has the message before the outbox worker records the relay's 250, so wait for the row.
    sent = await until(app, lambda: MailOutbox.get_or_none(MailOutbox.kind == "sms", MailOutbox.state == "sent"))
    assert sent is not None
    rows = await app.db.call(lambda: list(MailOutbox.select().where(MailOutbox.kind == "sms")))
    assert len(rows) == 1
    assert app.supervisor.service("sms").emulators()["gsm-a"].sent == []


def test_address_and_template() -> None:
    assert mail_gateway.address("{number}@gw.example", "+4917012") == "4917012@gw.example"
    assert mail_gateway.address("sms+{e164}@gw.example", "+4917012") == "sms++4917012@gw.example"
    assert mail_gateway.valid_template("{number}@gw.example")
    assert not mail_gateway.valid_template("sms@gw.example") and not mail_gateway.valid_template("{number}@")


def test_config_refuses_a_template_without_the_number(first_boot, app_env) -> None:
    from appliance import config
    with pytest.raises(ConfigError):
        config.load(first_boot.root, {**app_env, "APPLIANCE_SMS_MAIL_GATEWAY": "sms@gw.example"})
