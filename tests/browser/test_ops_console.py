"""Operations pages in Chromium, from the keyboard: an SNMP receiver added (a bad field first), tested and
removed; the fax line and GSM modem tested from the diagnostics page."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import browser_login_admin, eventually, screenshot


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite: these pages' database work is covered on both databases elsewhere."""
    return f"sqlite:///{tmp_path / 'appliance.db'}"


async def test_snmp_receiver_from_the_keyboard(appliance, page, first_boot) -> None:
    await browser_login_admin(page, first_boot.admin_password)
    await page.goto("/admin")
    await page.click("a[href='/admin/snmp']")
    await page.wait_for_url("**/admin/snmp")
    assert await page.locator("#no-receivers").count() == 1  # the empty state says what to do

    await page.focus("#f-name")
    await page.keyboard.type("Monitoring")
    await page.keyboard.press("Tab")
    await page.keyboard.type("not a host!")
    await page.focus("#f-v3_user")
    await page.keyboard.type("nms")
    await page.keyboard.press("Tab")
    await page.keyboard.type("auth-pass-phrase")
    await page.keyboard.press("Tab")
    await page.keyboard.type("priv-pass-phrase")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#form-errors")
    assert await page.get_attribute("#f-host", "aria-invalid") == "true"
    assert "must be a host name or an IP address" in await page.inner_text("#e-host")
    assert await page.input_value("#f-auth") == ""  # secrets are not sent back into the page
    await screenshot(page, "admin-snmp-errors")

    await page.fill("#f-host", "127.0.0.1")
    await page.fill("#f-port", "16299")
    await page.fill("#f-auth", "auth-pass-phrase")
    await page.fill("#f-priv", "priv-pass-phrase")
    await page.focus("#f-priv")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#notice")
    row = page.locator("#receivers tr[data-name='Monitoring']")
    assert "127.0.0.1:16299" in await row.inner_text() and "auth-pass-phrase" not in await page.content()

    await row.locator("button", has_text="Send test notification").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#test-result")
    assert "receiverTest sent to 127.0.0.1:16299" in await page.inner_text("#test-result")
    await screenshot(page, "admin-snmp")

    await page.locator("#receivers tr[data-name='Monitoring'] button", has_text="Remove").click()
    await page.wait_for_selector("#no-receivers")


async def test_diagnostics_page_tests_the_lines(appliance, page, first_boot) -> None:
    sms = appliance.supervisor.service("sms")

    async def modem_up() -> bool:
        return sms.runners["gsm-a"].state == "up"
    await eventually(modem_up, 20)
    await browser_login_admin(page, first_boot.admin_password)
    await page.goto("/admin/diagnostics")
    await page.locator("#diag-fax button", has_text="Test").first.click()
    await page.wait_for_selector("#result")
    assert "Every step passed." in await page.inner_text("#result")
    assert "AT+FCLASS=?" in await page.inner_text("pre.diagnostics")
    await page.locator("#diag-sms button", has_text="Test").first.click()
    await page.wait_for_selector("#result")
    assert "AT+CSQ" in await page.inner_text("pre.diagnostics")
    await screenshot(page, "admin-diagnostics")
