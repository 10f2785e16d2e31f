"""In Chromium: the desk follows ticket news without a reload (issue 6). A mail arrives over SMTP and the universal
queue's count goes up; assigned to the agent it joins their list; a customer's message appends to the open ticket's
timeline with a notice; the external lookup's attachment and a resubmission due show; a reply being written stays."""
from __future__ import annotations

import asyncio
import smtplib

from appliance.bus import Event, EventKind
from tests.appliance.mail.corpus import mail
from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _login_agent


async def _text(page, selector: str) -> str:
    loc = page.locator(selector)
    return (await loc.inner_text()).strip() if await loc.count() else ""


async def test_the_desk_follows_new_mail_messages_and_alerts_without_reload(appliance, first_boot, http,
                                                                           page) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, ticket, tenant_id = office["acme"], office["ticket"], office["tenant"]["id"]
    await _login_agent(page)
    await page.click(f"#my-tickets button[data-id='{ticket['id']}']")
    await page.wait_for_selector("#ticket:not([hidden])")
    await page.wait_for_selector("#queue-count[data-count='0']")
    assert await _text(page, "#queue-count") == "Nothing open in the universal queue."
    await page.fill("#reply-text", "Sehr geehrter Herr Łukasiewicz,")  # a reload would lose it

    # A customer writes to the support address: a new ticket nobody owns yet, so the queue's count goes up.
    port = appliance.supervisor.service("mail").smtp_port
    raw = mail(sender="Małgorzata Wiśniewska <malgorzata@example.pl>", to="support@acme.example",
               subject="Lieferung 815 beschädigt", body="Das Paket kam beschädigt an.", message_id="<live-815@example.pl>")

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("malgorzata@example.pl", ["support@acme.example"], raw)
    await asyncio.get_running_loop().run_in_executor(None, send)
    await page.wait_for_selector("#queue-count[data-count='1']", timeout=20000)
    assert await _text(page, "#queue-count") == "1 open in the universal queue"
    mailed = (await acme.get("/tickets", q="Lieferung 815"))["items"][0]

    # The team lead gives it to the agent: it joins their list, with a notice naming the customer.
    await acme.patch(f"/tickets/{mailed['id']}", {"owner_id": office["agent"]["id"]})
    await page.wait_for_selector(f"#my-tickets button[data-id='{mailed['id']}']")
    await page.wait_for_selector("#queue-count[data-count='0']", timeout=15000)

    # The customer of the open ticket writes again: the timeline grows and a notice says who wrote.
    before = await page.locator("#ticket-timeline li[data-id]").count()
    msg = await acme.post(f"/tickets/{ticket['id']}/messages", {"body": "Haben Sie meine Rechnung gefunden?",
                                                                "sender": "zbigniew@example.pl"})
    new_entry = page.locator(f"#ticket-timeline li[data-id='{msg['id']}']")
    await eventually(lambda: _count_is(new_entry, 1))
    assert "Haben Sie meine Rechnung gefunden?" in await new_entry.inner_text()
    assert await page.locator("#ticket-timeline li[data-id]").count() == before + 1
    notice = page.locator(f"#ticket-notices .live-notice[data-ticket='{ticket['id']}']")
    await eventually(lambda: _count_is(notice, 1))
    assert "New message from zbigniew@example.pl" in await notice.inner_text()

    # The external lookup attached the customer (its event): the open ticket says so, the file one click away.
    appliance.bus.publish(Event(EventKind.TICKET_UPDATED, {"ticket_id": ticket["id"],
                                                           "customer_id": office["customer"]["id"]}, tenant_id))
    await page.wait_for_selector("#ticket-timeline .live-attached button.open-customer")
    # A resubmission of one of the agent's tickets comes due (the scheduler's event): an alert on the home page.
    appliance.bus.publish(Event(EventKind.TICKET_UPDATED, {"ticket_id": mailed["id"], "reason": "resubmission"},
                                tenant_id))
    alert = page.locator("#live-alerts .live-alert[data-kind='resubmission']")
    await eventually(lambda: _count_is(alert, 1))
    assert await alert.inner_text() == f"Resubmission due: #{mailed['id']} ×"
    await screenshot(page, "desk-live-tickets")

    assert await page.input_value("#reply-text") == "Sehr geehrter Herr Łukasiewicz,"  # no reload on the way
    # The keyboard: a notice's button is focusable and Esc dismisses it; "j" opens the newest notice's ticket.
    await page.focus(f"#ticket-notices .live-notice[data-ticket='{ticket['id']}'] button.dismiss")
    await page.keyboard.press("Escape")
    await eventually(lambda: _count_is(notice, 0))
    await acme.post(f"/tickets/{mailed['id']}/messages", {"body": "Foto anbei.", "sender": "malgorzata@example.pl"})
    await eventually(lambda: _count_is(page.locator(f".live-notice[data-ticket='{mailed['id']}']"), 1))
    await page.focus("#btn-next")
    await page.keyboard.press("j")
    await eventually(lambda: _ticket_shown(page, mailed["id"]))


async def _count_is(locator, n: int) -> bool:
    return await locator.count() == n


async def _ticket_shown(page, ticket_id: int) -> bool:
    return await page.get_attribute("#ticket", "data-id") == str(ticket_id)
