"""Headless Chromium (Debian's package) driven by Playwright against the running appliance.

Screenshots go to tests/artifacts/screens/ so a reviewer can look at the main screens.
"""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.tools import require_tool

SCREENS = Path(__file__).resolve().parents[1] / "artifacts" / "screens"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
async def page(appliance) -> AsyncIterator:
    """A fresh browser page that trusts nothing but talks to the appliance's self-signed HTTPS."""
    chromium = require_tool("chromium", "chromium")
    from playwright.async_api import async_playwright
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = await browser.new_context(ignore_https_errors=True, viewport={"width": 1366, "height": 768},
                                            base_url=f"https://localhost:{appliance.web_port}")
        pg = await context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.js_errors = errors
        yield pg
        await browser.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


async def screenshot(pg, name: str) -> None:
    """Keep a picture of the screen for review."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    await pg.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


async def browser_login_admin(pg, one_time: str, new: str = "Browser-Pass-42") -> None:
    """First login through the real forms, with the forced password change."""
    await pg.goto("/login")
    await pg.fill("input[name=username]", "admin")
    await pg.fill("input[name=password]", one_time)
    await pg.click("form[action='/login'] button[type=submit]")
    await pg.wait_for_url("**/account/password")
    await pg.fill("input[name=current_password]", one_time)
    await pg.fill("input[name=new_password]", new)
    await pg.fill("input[name=repeat]", new)
    await pg.click("form[action='/account/password'] button[type=submit]")
    await pg.wait_for_url("**/admin")


async def eventually(check, timeout: float = 10.0) -> None:
    """Poll an async check from Python (the page's CSP forbids Playwright's eval-based waiting)."""
    import asyncio
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "the page did not get there in time"
        await asyncio.sleep(0.1)
