"""In Chromium: an agent answers a customer's e-mail with text blocks (one expanded by #shortcut + Tab, one picked
from the list by keyboard), attaches a file and sends it; the mail the relay (aiosmtpd in its own process)
receives carries the rendered text, the threading headers and the file, and the timeline lists the file."""
from __future__ import annotations

from email import message_from_bytes, policy
from typing import Iterator

import pytest

from tests.appliance.mail.servers import SmtpSink, cleanup, start_smtp_sink
from tests.appliance.webui.test_desk import office_setup
from tests.appliance.webui.test_reply import CUSTOMER_MID, deliver_and_wait
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _contains, _login_agent

PDF = b"%PDF-1.4\n% Rechnung 4711 (Kopie)\n" + bytes(range(256)) * 8


@pytest.fixture
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """The relay the appliance sends through (STARTTLS and AUTH required, like the mail tests' one); one per
    test, because ticket numbers start again with every test's database."""
    root = tmp_path_factory.mktemp("relay")
    server = start_smtp_sink(root)
    yield server
    server.stop()
    cleanup(root)


@pytest.fixture
def app_env(app_env: dict[str, str], smtp_sink: SmtpSink) -> dict[str, str]:
    """The usual appliance, its outbox pointed at the relay."""
    return {**app_env, "APPLIANCE_MAIL_RELAY_URL": f"starttls://relay:relay-pw@localhost:{smtp_sink.port}",
            "APPLIANCE_MAIL_RELAY_CA_FILE": str(smtp_sink.cert)}


def _sent_for(sink: SmtpSink, ticket_id: int) -> list[bytes]:
    return [raw for raw in sink.received() if f"[Ticket#{ticket_id}]".encode() in raw]


async def test_agent_replies_with_text_blocks_and_an_attachment(appliance, first_boot, http, page, smtp_sink) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme = office["acme"]
    await acme.post("/text-blocks", {
        "shortcut": "rechnung", "title": "Rechnung unterwegs", "category": "Billing", "channels": ["mail"],
        "body_text": "Guten Tag {{ customer.name }},\nIhre Rechnung zu Ticket {{ ticket.number }} ist unterwegs."})
    await acme.post("/text-blocks", {"shortcut": "gruss", "title": "Gruß mit Name", "category": "Allgemein",
                                     "body_text": "Viele Grüße\n{{ agent.name }}, {{ mailbox.address }}"})
    await acme.patch(f"/customers/{office['customer']['id']}", {"emails": ["zbigniew@example.pl"]})
    ticket = await deliver_and_wait(appliance, acme)  # the sender is known: the ticket is the customer's
    await acme.patch(f"/tickets/{ticket['id']}", {"owner_id": office["agent"]["id"]})

    await _login_agent(page)
    await page.click(f"#my-tickets button[data-id='{ticket['id']}']")
    await page.wait_for_selector("#ticket:not([hidden])")
    await eventually(lambda: _contains(page, "#ticket-timeline", "Wo bleibt meine Rechnung?"))
    assert await page.locator("#reply-to").input_value() == "zbigniew@example.pl"
    await page.wait_for_selector("#reply-options[data-blocks='2']", state="attached")

    # #shortcut + Tab expands the block with the ticket's values where the cursor is.
    await page.click("#reply-text")
    await page.keyboard.type("#rechnung")
    await page.keyboard.press("Tab")
    expected = f"Guten Tag {office['customer']['name']},\nIhre Rechnung zu Ticket {ticket['id']} ist unterwegs."
    await eventually(lambda: _value_is(page, "#reply-text", expected))
    # Ctrl+Space opens the list; typing filters, Enter inserts at the cursor.
    await page.keyboard.type("\n\n")
    await page.keyboard.press("Control+Space")
    await page.wait_for_selector("dialog#block-picker[open]")
    await page.keyboard.type("gruß")
    await page.wait_for_selector("#block-list li.selected:has-text('Gruß mit Name')")
    await screenshot(page, "desk-text-block-picker")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("dialog#block-picker:not([open])", state="attached")
    full = expected + "\n\nViele Grüße\nAgnes Åström, support@acme.example"
    await eventually(lambda: _value_is(page, "#reply-text", full))

    await page.fill("#reply-salutation", "")
    await page.set_input_files("#reply-file", files=[{"name": "Rechnung 4711.pdf", "mimeType": "application/pdf",
                                                     "buffer": PDF}])
    await page.wait_for_selector("#reply-files li:has-text('Rechnung 4711.pdf')")
    await screenshot(page, "desk-reply-with-attachment")
    await page.click("#reply-send")
    await eventually(lambda: _contains(page, "#ticket-timeline", "ist unterwegs"))
    await page.wait_for_selector("#ticket-timeline .msg-files a:has-text('Rechnung 4711.pdf')")
    await screenshot(page, "desk-reply-sent")

    await eventually(lambda: _async(bool(_sent_for(smtp_sink, ticket["id"]))), timeout=30)
    [raw] = _sent_for(smtp_sink, ticket["id"])
    sent = message_from_bytes(raw, policy=policy.default)
    assert sent["X-Envelope-To"] == "zbigniew@example.pl" and sent["From"] == "support@acme.example"
    assert sent["In-Reply-To"] == CUSTOMER_MID
    assert sent["References"] == f"<earlier@example.pl> {CUSTOMER_MID}"
    text = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith(full)
    assert "> Wo bleibt meine Rechnung?" in text
    assert "Ticket" in sent.get_body(("html",)).get_content()
    [att] = list(sent.iter_attachments())
    assert att.get_filename() == "Rechnung 4711.pdf" and att.get_content_type() == "application/pdf"
    assert att.get_content() == PDF


async def _value_is(page, selector: str, wanted: str) -> bool:
    return (await page.locator(selector).input_value()) == wanted


async def _async(value: bool) -> bool:
    return value


async def test_the_mailbox_default_template_opens_with_the_reply_and_another_can_be_chosen(
        appliance, first_boot, http, page, smtp_sink) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, mailbox = office["acme"], office["mailbox"]
    await acme.patch(f"/customers/{office['customer']['id']}", {"emails": ["zbigniew@example.pl"]})
    await acme.post("/reply-templates", {
        "name": "Standard", "mailbox_id": mailbox["id"], "is_default": True,
        "salutation": "Guten Tag {{ customer.name }},",
        "body_text": "danke für Ihre Nachricht zu Ticket {{ ticket.number }}.",
        "signature": "{{ agent.name }}\nAcme Support"})
    await acme.post("/reply-templates", {"name": "Kurz", "salutation": "Hallo,", "body_text": "erledigt.",
                                         "signature": "Acme"})
    ticket = await deliver_and_wait(appliance, acme, subject="Vorlage bitte")
    await acme.patch(f"/tickets/{ticket['id']}", {"owner_id": office["agent"]["id"]})
    await _login_agent(page)
    await page.click(f"#my-tickets button[data-id='{ticket['id']}']")
    await page.wait_for_selector("#ticket:not([hidden])")
    name = office["customer"]["name"]
    await eventually(lambda: _value_is(page, "#reply-salutation", f"Guten Tag {name},"))
    assert await page.locator("#reply-text").input_value() == f"danke für Ihre Nachricht zu Ticket {ticket['id']}."
    assert await page.locator("#reply-signature").input_value() == "Agnes Åström\nAcme Support"
    await screenshot(page, "desk-reply-default-template")
    await page.select_option("#reply-template", label="Kurz")
    await eventually(lambda: _value_is(page, "#reply-salutation", "Hallo,"))
    assert await page.locator("#reply-text").input_value() == "erledigt."
    await page.click("#reply-send")
    await eventually(lambda: _async(bool(_sent_for(smtp_sink, ticket["id"]))), timeout=30)
    [raw] = _sent_for(smtp_sink, ticket["id"])
    text = message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Hallo,\n\nerledigt.\n\n-- \nAcme\n")
