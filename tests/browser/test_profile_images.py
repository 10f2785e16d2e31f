"""In Chromium: the tenant admin uploads a logo on the images page (a wrong file is refused next to the field),
the reply template editor's preview shows it; an agent sets a signature, a signature image and an informal
salutation on the profile page, by keyboard where a form allows it."""
from __future__ import annotations

import io

from PIL import Image

from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _contains


def _png(colour: tuple = (20, 60, 160), size: tuple[int, int] = (120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def _login(page, username: str, password: str) -> None:
    await page.goto("/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_load_state()


async def test_logo_in_the_template_preview_and_a_personal_signature(appliance, first_boot, http, page) -> None:
    await office_setup(appliance, first_boot, http)
    await _login(page, "acme-admin", "Tenant-Acme-Pass-1")
    await page.goto("/admin/reply-templates")
    await page.click("nav >> text=Images")
    await page.wait_for_url("**/admin/images")
    assert "No images yet" in await page.locator("#images").inner_text()
    await page.fill("#f-name", "logo")
    await page.set_input_files("#f-file", files=[{"name": "logo.gif", "mimeType": "image/gif",
                                                  "buffer": b"GIF89a\x01\x00\x01\x00"}])
    await page.click("form[action='/admin/images'] button[type=submit]")
    await page.wait_for_selector("#e-file")
    assert "not a readable PNG or JPEG" in await page.locator("#e-file").inner_text()
    assert await page.input_value("#f-name") == "logo"
    await page.fill("#f-alt", "ACME Kundenservice")
    await page.set_input_files("#f-file", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": _png()}])
    await page.click("form[action='/admin/images'] button[type=submit]")
    await page.wait_for_selector("#saved")
    row = page.locator("#images tr[data-name=logo]")
    assert "{{ image.logo }}" in await row.inner_text()
    src = await row.locator("img").get_attribute("src")
    answer = await page.request.get(src)
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    await screenshot(page, "console-images")

    await page.goto("/admin/reply-templates/new")
    await page.fill("#f-name", "Mit Logo")
    await page.fill("#f-body_html", "<p>{{ image.logo }}</p><p>Guten Tag {{ customer.name }}</p>")
    await page.wait_for_selector(f"#preview-html img[src='{src}']")
    assert await page.locator("#preview-html img").get_attribute("alt") == "ACME Kundenservice"
    await page.fill("#f-body_html", '<img src="https://tracker.example/p.gif"> Hallo')
    await eventually(lambda: _contains(page, "#preview-html", "Hallo"))
    assert await page.locator("#preview-html img").count() == 0  # a remote picture (a tracking pixel) is dropped

    await page.context.clear_cookies()
    await _login(page, "agnes", AGENT_PASSWORD)
    await page.click("header >> text=Profile")
    await page.wait_for_url("**/profile")
    assert await page.locator("#no-signature-image").is_visible()
    await page.fill("#f-signature", "Agnes Åström\nKundenservice")
    await page.select_option("#f-salutation_de", "informal")
    await page.click("#profile-form button[type=submit]")
    await page.wait_for_selector("#saved")
    assert await page.input_value("#f-signature") == "Agnes Åström\nKundenservice"
    assert await page.input_value("#f-salutation_de") == "informal"
    await page.fill("#f-alt", "Unterschrift")
    await page.set_input_files("#f-file", files=[{"name": "sig.png", "mimeType": "image/png",
                                                  "buffer": _png((0, 0, 0), (90, 30))}])
    await page.click("form[action='/profile/image'][enctype] button[type=submit]")
    await page.wait_for_selector("#signature-image img[alt=Unterschrift]")
    await screenshot(page, "desk-profile")
