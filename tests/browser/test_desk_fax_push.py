"""In Chromium: the desk's ticket view follows an outgoing fax from queued to sent through `fax.status` pushes on
its websocket, without asking the server for the fax list again (no polling)."""
from __future__ import annotations

import asyncio
import json

from appliance.fax.lines import EMULATED_REMOTE
from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _login_agent


async def test_fax_states_arrive_over_the_websocket_without_polling(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    ticket_id = office["ticket"]["id"]
    status_url = f"/desk/tickets/{ticket_id}/faxes"
    gets: list[str] = []
    pushed: list[str] = []
    page.on("request", lambda req: gets.append(req.url) if req.method == "GET" and req.url.endswith(status_url)
            else None)

    def on_socket(ws) -> None:
        def frame(payload) -> None:
            if isinstance(payload, str) and '"fax.status"' in payload:
                pushed.append(json.loads(payload)["data"]["fax"]["state"])
        ws.on("framereceived", frame)
    page.on("websocket", on_socket)
    outside = asyncio.create_task(appliance.supervisor.service("fax").network.receive_out(timeout=90))
    try:
        await _login_agent(page)
        await page.click(f"#my-tickets button[data-id='{ticket_id}']")
        await page.wait_for_selector("#ticket:not([hidden])")
        await eventually(lambda: _async(len(gets) == 1))  # the list as the ticket opens
        await page.keyboard.press("f")
        await page.wait_for_selector("#fax-dialog[open]")
        await page.fill("#fax-number", EMULATED_REMOTE)
        await page.fill("#fax-cover", "Sehr geehrter Herr Łukasiewicz,\nanbei die Rechnung.")
        await page.click("#fax-send")
        await page.wait_for_selector("#fax-dialog", state="hidden")
        await eventually(lambda: _state_is(page, "sent"), timeout=90)
        assert (await asyncio.wait_for(outside, 30)).ok
        text = await page.locator("#ticket-faxes li.fax-job").first.inner_text()
        assert "1/1" in text and EMULATED_REMOTE in text
        # Opened, then once after sending (the new fax): every later state came as a push, none by asking again.
        assert len(gets) == 2, gets
        assert pushed[-1] == "sent" and "sending" in pushed
        await screenshot(page, "desk-fax-pushed")
    finally:
        outside.cancel()


async def _async(value: bool) -> bool:
    return value


async def _state_is(page, state: str) -> bool:
    box = page.locator("#ticket-faxes li.fax-job .fax-state")
    return await box.count() > 0 and await box.first.get_attribute("data-state") == state
