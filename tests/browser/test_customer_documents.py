"""In Chromium: an agent files a document in a customer's file from the desk, sees it in the documents and
the history with a download link that gives the same bytes; an oversize file is refused with the reason."""
from __future__ import annotations

from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _login_agent


async def test_agent_uploads_and_downloads_a_customer_document(appliance, first_boot, http, page, tmp_path) -> None:
    await office_setup(appliance, first_boot, http)
    await _login_agent(page)
    await page.fill("#search", "K-1001")
    await page.press("#search", "Enter")
    await page.click("#search-results button.open-customer")
    await page.wait_for_selector("#doc-form")
    contract = tmp_path / "Vertrag März.pdf"
    contract.write_bytes(b"%PDF-1.4 contract of " + "Łukasiewicz".encode())
    await page.set_input_files("#doc-file", str(contract))
    await page.click("#doc-form button[type=submit]")

    async def listed() -> bool:
        return await page.locator("#file-documents a", has_text="Vertrag März.pdf").count() == 1 and \
            await page.locator("#file-history li.doc a", has_text="Vertrag März.pdf").count() == 1
    await eventually(listed)
    await screenshot(page, "desk-customer-documents")
    async with page.expect_download() as info:
        await page.click("#file-documents a")
    download = await info.value
    assert download.suggested_filename == "Vertrag März.pdf"
    with open(await download.path(), "rb") as fh:
        assert fh.read() == contract.read_bytes()

    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (20 * 1024 * 1024 + 1))
    await page.set_input_files("#doc-file", str(big))
    await page.click("#doc-form button[type=submit]")

    async def refused() -> bool:
        flash = page.locator("#flash")
        return await flash.is_visible() and "20 MB" in await flash.inner_text()
    await eventually(refused, timeout=20)
    assert await page.locator("#file-documents a").count() == 1
