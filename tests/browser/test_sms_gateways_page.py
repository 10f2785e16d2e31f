"""In Chromium: the SMS page's Gateways section with nothing configured says so in each row."""
from __future__ import annotations

from tests.browser.conftest import browser_login_admin, screenshot


async def test_the_gateways_section_names_what_is_not_configured(appliance, first_boot, page) -> None:
    await browser_login_admin(page, first_boot.admin_password)
    await page.goto("/admin/sms")
    table = page.locator("#gateways")
    assert "None configured: SMS go out by the modems only." in await table.locator("#gateway-out").inner_text()
    assert "No mail account is an SMS gateway" in await table.locator("#gateway-in-mail").inner_text()
    assert "POST /api/v1/sms/inbound" in await table.locator("#gateway-in-http").inner_text()
    await page.locator("#gateways").scroll_into_view_if_needed()
    await screenshot(page, "sms-gateways")
