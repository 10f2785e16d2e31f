"""In Chromium, in German: the wallboard's script shows its words from the page's translated strings (queue
cards, KPIs, agent states, the link badge); the services and fax lines pages and their scripts speak German."""
from __future__ import annotations

from tests.browser.conftest import browser_login_admin, eventually, screenshot


async def test_wallboard_and_admin_tables_in_german(appliance, first_boot, page) -> None:
    await browser_login_admin(page, first_boot.admin_password)
    await page.select_option("form.lang-form select", "de")
    await page.click("form.lang-form button")
    await page.wait_for_selector("html[lang=de]")
    headers = await page.locator("table.grid thead th").all_text_contents()
    assert "Dienst" in headers and "Neustarts" in headers and "Laufzeit" in headers
    assert await page.locator("#overall").text_content() in ("Alle laufen", "Beeinträchtigt")

    async def refreshed_in_german() -> bool:  # admin.js writes this with the page's translated strings
        return (await page.locator("#refreshed").text_content()).startswith("aktualisiert")
    await eventually(refreshed_in_german)

    await page.goto("/wallboard")
    card = page.locator(".queue[data-queue=support]")
    await card.wait_for()
    assert await card.locator("h3").all_text_contents() == ["Heute", "Letzte 15 Min."]
    labels = await card.locator(".kpi .l").all_text_contents()
    assert labels[:3] == ["angeboten", "angenommen", "aufgelegt"] and "Ø Wartezeit" in labels
    await page.wait_for_selector(".agent.ready")
    assert await page.locator(".agent.ready .state").first.text_content() == "frei"

    async def live() -> bool:
        return await page.locator("#link").inner_text() == "live"
    await eventually(live)
    page_text = await page.locator("main").inner_text()
    for english in ("offered", "answered", "Today", "Last 15 min", "nobody waiting"):
        assert english not in page_text, english
    await screenshot(page, "wallboard-german")

    await page.goto("/admin/fax")
    headers = await page.locator("table.grid thead th").all_text_contents()
    assert "Leitung" in headers and "Gerät" in headers and "Letzter Fehler" in headers
    await page.fill("#send-in input[name=text]", "Grüße 你好")
    await page.click("#send-in button[type=submit]")

    async def fax_result_in_german() -> bool:  # fax.js: "wählt…", then "gesendet: … bestätigt"
        return "bestätigt" in await page.locator("#send-in-result").text_content()
    await eventually(fax_result_in_german, timeout=90)
    await screenshot(page, "admin-fax-german")
