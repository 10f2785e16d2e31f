"""In Chromium: a Chinese customer name in the screen pop is drawn with real glyphs of a CJK font (Debian's
fonts-noto-cjk), not as empty boxes; Chromium itself reports which fonts drew which glyphs (DevTools CSS domain)."""
from __future__ import annotations

from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import screenshot
from tests.browser.test_desk import HOTLINE, _login_agent, _with_phone
from tests.tools import require_file


async def _fonts_of(page, selector: str) -> dict[str, int]:
    """Family name -> glyphs drawn with it, for the text of one element."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument", {"depth": -1})
    node = await cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector})
    fonts = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    return {f["familyName"]: f["glyphCount"] for f in fonts["fonts"]}


async def test_a_chinese_name_in_the_screen_pop_is_drawn_in_a_cjk_font(appliance, first_boot, http, page) -> None:
    require_file("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "fonts-noto-cjk")
    office = await office_setup(appliance, first_boot, http)
    await _with_phone(appliance, office)
    await _login_agent(page)
    await page.select_option("#mode", "inbound")
    await page.click("#btn-login")
    await page.wait_for_selector("#state-badge.st-ready")
    office["bridge"].adapter.arrive(HOTLINE, caller="040 1234567")
    await page.wait_for_selector("#pop[data-identity=known]")
    assert await page.locator("#pop-name").inner_text() == "Zbigniew Łukasiewicz 王小明"
    fonts = await _fonts_of(page, "#pop-name")
    cjk = sum(n for family, n in fonts.items() if "CJK" in family)
    assert cjk >= 3, fonts  # 王小明: three glyphs from a CJK face; the Latin and Polish letters from another
    assert sum(fonts.values()) >= len("Zbigniew Łukasiewicz 王小明") - 2, fonts  # spaces may not count
    await screenshot(page, "desk-screen-pop-chinese")
