"""In Chromium: an admin writes a text block in the console; the preview follows the typing, names an unknown
variable at once, shows the cleaned HTML, and the saved block is in the list."""
from __future__ import annotations

from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _contains


async def _visible(page, selector: str) -> bool:
    return await page.locator(selector).is_visible()


async def test_admin_writes_a_text_block_with_a_live_preview(appliance, first_boot, http, page) -> None:
    await office_setup(appliance, first_boot, http)
    await page.goto("/login")
    await page.fill("input[name=username]", "acme-admin")
    await page.fill("input[name=password]", "Tenant-Acme-Pass-1")
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/admin**")
    await page.click("nav >> text=Text blocks")
    await page.wait_for_url("**/admin/text-blocks")
    assert "No text blocks yet" in await page.locator("#content-list").inner_text()
    await page.click("a.button.primary")
    await page.fill("#f-shortcut", "dank")
    await page.fill("#f-title", "Dank für die Geduld")
    await page.fill("#f-category", "Allgemein")
    await page.fill("#f-body_text", "Hallo {{ customer.nam }}")
    await page.wait_for_selector("#preview-problem:not([hidden])")
    assert "customer.nam" in await page.locator("#preview-problem").inner_text()
    await page.fill("#f-body_text", "Hallo {{ customer.name }}, danke für Ihre Geduld mit Ticket {{ ticket.number }}.")
    await eventually(lambda: _contains(page, "#preview-text", "Hallo Zbigniew Łukasiewicz, danke für Ihre Geduld "
                                                              "mit Ticket 4711."))
    assert not await _visible(page, "#preview-problem")
    await page.fill("#f-body_html", '<p>Hallo <b>{{ customer.name }}</b></p><img src=x onerror="alert(1)">')
    await page.wait_for_selector("#preview-html b:has-text('Zbigniew Łukasiewicz')")
    assert await page.locator("#preview-html img").count() == 0
    await screenshot(page, "console-text-block-editor")
    await page.click("#content-form button[type=submit]")
    await page.wait_for_selector("p.notice[role=status]")
    await page.click("text=Back to the list")
    await eventually(lambda: _contains(page, "#content-list", "#dank"))
    await screenshot(page, "console-text-blocks")
