"""In Chromium: an agent sends a ticket's answer as a fax from the desk (cover text and an image), on the emulated
line that `make run` uses; the ticket shows the fax going from queued to sent with its pages confirmed, and the
transmission report opens from there. Bad input (no content, a file that is no document) gets a clear error."""
from __future__ import annotations

import asyncio
import io

from appliance.fax.lines import EMULATED_REMOTE
from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _login_agent


def letter_png() -> bytes:
    from PIL import Image, ImageDraw
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    for y in range(200, 1500, 60):
        draw.rectangle((150, y, 150 + (y * 7) % 900, y + 20), fill=0)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(150, 150))
    return out.getvalue()


async def _state(page) -> str:
    box = page.locator("#ticket-faxes li.fax-job .fax-state")
    return await box.first.get_attribute("data-state") if await box.count() else ""


async def test_agent_sends_a_fax_from_the_ticket_and_sees_it_sent(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    from appliance.models import CustomerIdentifier
    await appliance.db.call(lambda: CustomerIdentifier.create(tenant=office["tenant"]["id"],
                                                              customer=office["customer"]["id"], kind="fax",
                                                              value=EMULATED_REMOTE))
    network = appliance.supervisor.service("fax").network
    outside = asyncio.create_task(network.receive_out(timeout=90))
    try:
        await _login_agent(page)
        await page.click(f"#my-tickets button[data-id='{office['ticket']['id']}']")
        await page.wait_for_selector("#ticket:not([hidden])")
        await page.keyboard.press("f")  # the shortcut opens the dialog, prefilled with the customer's fax
        await page.wait_for_selector("#fax-dialog[open]")
        assert await page.input_value("#fax-number") == EMULATED_REMOTE

        await page.click("#fax-send")  # neither cover nor document: the dialog says so and stays open
        assert "cover text or choose a document" in await page.locator("#fax-error").inner_text()
        await page.set_input_files("#fax-file", files=[{"name": "letter.pdf", "mimeType": "application/pdf",
                                                        "buffer": b"not a pdf at all"}])
        await page.click("#fax-send")
        await eventually(lambda: _shown(page, "#fax-error", "not a PDF, PNG, JPEG or TIFF"))
        assert await page.locator("#fax-dialog[open]").count() == 1

        await page.fill("#fax-cover", "Sehr geehrter Herr Łukasiewicz,\nanbei die Rechnung als Fax.")
        await page.set_input_files("#fax-file", files=[{"name": "rechnung.png", "mimeType": "image/png",
                                                        "buffer": letter_png()}])
        await page.click("#fax-send")
        await page.wait_for_selector("#fax-dialog", state="hidden")
        await page.wait_for_selector("#ticket-faxes li.fax-job")
        first = await _state(page)
        assert first in ("queued", "sending", "sent")
        await screenshot(page, "desk-fax-queued")

        await eventually(lambda: _is(page, "sent"), timeout=90)
        text = await page.locator("#ticket-faxes li.fax-job").first.inner_text()
        assert "2/2" in text and EMULATED_REMOTE in text
        fax = await asyncio.wait_for(outside, 30)
        assert fax.ok and len(fax.pages) == 2
        await screenshot(page, "desk-fax-sent")

        await page.click("#ticket-faxes li.fax-job a")
        await page.wait_for_selector("#report-pages")
        report = await page.locator("main").inner_text()
        assert EMULATED_REMOTE in report and "MCF" in report and "confirmed" in report
        await screenshot(page, "desk-fax-report")
    finally:
        outside.cancel()


async def _shown(page, selector: str, text: str) -> bool:
    node = page.locator(selector)
    return await node.is_visible() and text in await node.inner_text()


async def _is(page, state: str) -> bool:
    return await _state(page) == state
