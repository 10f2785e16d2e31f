"""In Chromium: an SMS sent from a ticket shows how far it got, and the gateway's delivery report reaches the open
ticket as an `sms.status` push on the desk's websocket (no reload, no polling)."""
from __future__ import annotations

from appliance.models import Message
from appliance.sms.models import SmsOutbox
from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _login_agent


async def test_the_gateway_report_turns_the_sms_delivered_on_the_open_ticket(appliance, first_boot, http,
                                                                            page) -> None:
    office = await office_setup(appliance, first_boot, http)
    tenant_id, ticket_id = office["tenant"]["id"], office["ticket"]["id"]

    def sent_sms(text: str, gateway_id: str) -> int:
        msg = Message.create(tenant=tenant_id, ticket=ticket_id, channel="sms", direction="out",
                             recipient="+49401234567", body=text)
        SmsOutbox.create(tenant=tenant_id, ticket=ticket_id, message=msg.id, to_number="+49401234567", text=text,
                         state="sent", modem="http-gateway", gateway_id=gateway_id, attempts=1)
        return msg.id
    first = await appliance.db.call(sent_sms, "Die Rechnung ist unterwegs.", "gw-77")
    second = await appliance.db.call(sent_sms, "Zweiter Versuch.", "gw-78")
    await _login_agent(page)
    await page.click(f"#my-tickets button[data-id='{ticket_id}']")
    await page.wait_for_selector("#ticket:not([hidden])")
    badge = page.locator(f"#ticket-timeline li[data-id='{first}'] .sms-state")
    await eventually(lambda: _state(badge, "sent"))
    assert (await badge.inner_text()).strip() == "SMS sent"

    acme = office["acme"]
    await acme.post("/sms/reports", {"id": "gw-77", "status": "delivered"})
    await eventually(lambda: _state(badge, "delivered"))
    await acme.post("/sms/reports", {"id": "gw-78", "status": "failed", "error": "absent subscriber"})
    other = page.locator(f"#ticket-timeline li[data-id='{second}'] .sms-state")
    await eventually(lambda: _state(other, "undeliverable"))
    assert "absent subscriber" in await other.inner_text()
    await screenshot(page, "desk-sms-delivered")


async def _state(locator, state: str) -> bool:
    return await locator.count() > 0 and await locator.get_attribute("data-state") == state
