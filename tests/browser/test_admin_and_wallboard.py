"""In Chromium: first login, the services page, and the wallboard's colours following agents' states."""
from __future__ import annotations

import dataclasses

from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import browser_login_admin, eventually, screenshot


async def test_first_login_and_services_page(appliance, first_boot, page) -> None:
    await browser_login_admin(page, first_boot.admin_password)
    row = page.locator("tr[data-name=pbx_bridge] .state")
    assert await row.inner_text() == "running"
    assert "not built yet" in await page.locator("tr[data-name=isdn_fax] .err").inner_text()
    async def refreshed() -> bool:
        return (await page.locator("#refreshed").inner_text()).startswith("updated")
    await eventually(refreshed)
    await screenshot(page, "admin-services")


async def test_wallboard_shows_queues_and_agent_colours_change(appliance, first_boot, page) -> None:
    await browser_login_admin(page, first_boot.admin_password)
    await page.click("nav >> text=Wallboard")
    await page.wait_for_selector(".queue[data-queue=support]")
    await page.wait_for_selector(".agent.ready")
    service = appliance.supervisor.service("pbx_bridge")
    pbx = service.bridge.adapter
    pbx.answer_delay_s = (0.0, 0.1)
    # Callers go through the demo script (menu, digits) and are answered by simulated agents: yellow tiles.
    # The script sends some callers to voicemail or a callback, and a talk time drawn from the demo's mean
    # (150 s, scaled to 1.5 s) can end between two snapshots. So these callers talk for a simulated hour, and one more
    # dials in every few seconds until a tile turns yellow: the colour is what is tested, not the dice.
    long_talk = dataclasses.replace(pbx.traffic[0], handle_mean_s=3600.0, patience_mean_s=None)
    pbx.time_scale = 0.01
    service.bridge.time_scale = 0.01

    for _ in range(20):
        pbx.arrive(long_talk)
        try:
            await page.wait_for_selector(".agent.busy", timeout=3000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError("no agent tile turned busy after 20 callers")
    await screenshot(page, "wallboard")
    assert await page.locator("#link").inner_text() == "live"
    paused = await page.locator(".agent.paused").count()
    service.bridge.pause(next(a.id for a in service.bridge.engine.agents() if a.state.value == "ready"), "lunch")
    async def one_more_paused() -> bool:
        return await page.locator(".agent.paused").count() > paused
    await eventually(one_more_paused)
    await page.goto("/wallboard?compact=1")
    await page.wait_for_selector(".queue[data-queue=support]")
    await screenshot(page, "wallboard-compact")
