"""In Chromium: an agent's day on the desk (ready, screen pop, answer, hold, transfer, wrap-up, reply to an
e-mail ticket), the wallboard following a person's state, the queue script editor showing a broken line,
and the desk in German. Screenshots of each screen go to tests/artifacts/screens/."""
from __future__ import annotations

from appliance.pbx.simulated import SimTraffic
from tests.appliance.webui.test_desk import AGENT_PASSWORD, office_setup
from tests.appliance.api.client import ADMIN_PASSWORD
from tests.browser.conftest import eventually, screenshot

HOTLINE = SimTraffic("hotline", "+4940555000", 0, patience_mean_s=None)


async def _with_phone(appliance, office, extension: str = "2001") -> str:
    from appliance.models.acd import AgentPhone
    agent = office["agent"]
    await appliance.db.call(lambda: AgentPhone.create(user=agent["id"], tenant=office["tenant"]["id"],
                                                      extension=extension, queues="hotline"))
    await office["service"].refresh()
    return f"u{agent['id']}"


async def _login_admin(page) -> None:
    # The office was set up through the API, which already made the admin change the one-time password.
    await page.goto("/login")
    await page.fill("input[name=username]", "admin")
    await page.fill("input[name=password]", ADMIN_PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/admin")


async def _login_agent(page) -> None:
    await page.goto("/login")
    await page.fill("input[name=username]", "agnes")
    await page.fill("input[name=password]", AGENT_PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/desk")
    await page.wait_for_selector("#state-badge")


async def _text_is(page, selector: str, wanted: str) -> bool:
    return (await page.locator(selector).inner_text()).strip() == wanted


async def test_agent_takes_a_call_with_screen_pop_transfers_and_wraps_up(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    agent_id = await _with_phone(appliance, office)
    bridge = office["bridge"]
    await _login_agent(page)
    await page.select_option("#mode", "inbound")
    await page.click("#btn-login")
    await page.wait_for_selector("#state-badge.st-ready")
    await eventually(lambda: _text_is(page, "#my-tickets li:first-child button", "#%d Rechnung fehlt"
                                      % office["ticket"]["id"]))
    await screenshot(page, "desk-home-ready")

    call_id = bridge.adapter.arrive(HOTLINE, caller="040 1234567")
    await page.wait_for_selector("#call-panel[data-state=ringing]")
    await page.wait_for_selector("#pop[data-identity=known]")
    assert await page.locator("#pop-name").inner_text() == "Zbigniew Łukasiewicz 王小明"
    assert "K-1001" in await page.locator("#pop-meta").inner_text()
    assert "Rechnung fehlt" in await page.locator("#file-tickets").inner_text()
    assert "Wo bleibt meine Rechnung?" in await page.locator("#file-history").inner_text()
    await screenshot(page, "desk-screen-pop")

    await page.keyboard.press("a")  # the shortcut answers
    await page.wait_for_selector("#call-panel[data-state=connected]")
    assert bridge.engine.call(call_id).agent_id == agent_id
    await page.click("#btn-hold")
    await eventually(lambda: _async(call_id in bridge.adapter.held))
    await page.click("#btn-hold")
    await eventually(lambda: _async(call_id not in bridge.adapter.held))
    await page.fill("#pt-subject", "Rückruf wegen Rechnung")
    await page.fill("#pt-body", "Kunde bittet um Kopie der Rechnung.")
    await page.click("#phone-ticket button[type=submit]")
    await eventually(lambda: _contains(page, "#file-tickets", "Rückruf wegen Rechnung"))
    await screenshot(page, "desk-call-connected")

    await page.select_option("#transfer-queue", "support")
    await page.click("#btn-transfer")
    await page.wait_for_selector("#state-badge.st-wrap_up, #state-badge.st-ready")
    assert bridge.engine.agent(agent_id).call_id is None
    await screenshot(page, "desk-wrap-up")

    await page.keyboard.press("?")
    await page.wait_for_selector("dialog#shortcuts[open]")
    await screenshot(page, "desk-shortcuts")
    await page.keyboard.press("Escape")
    await page.wait_for_selector("dialog#shortcuts:not([open])", state="attached")


async def test_agent_replies_to_an_email_ticket(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    await _login_agent(page)
    ticket = office["ticket"]
    await page.click(f"#my-tickets button[data-id='{ticket['id']}']")
    await page.wait_for_selector("#ticket:not([hidden])")
    assert "Wo bleibt meine Rechnung?" in await page.locator("#ticket-timeline").inner_text()
    assert await page.locator("#reply-to").input_value() == "zbigniew@example.pl"
    assert await page.locator("#reply-channel").input_value() == "mail"
    # Typed by hand (text blocks and attachments: test_desk_reply.py).
    await page.fill("#reply-text", "Guten Tag Herr Łukasiewicz,\n\ndie Rechnung ist unterwegs.\n\nMit freundlichen Grüßen")
    await page.click("#reply-send")
    await eventually(lambda: _contains(page, "#ticket-timeline", "die Rechnung ist unterwegs"))
    await screenshot(page, "desk-ticket-reply")
    await page.keyboard.press("d")  # done, by shortcut
    await eventually(lambda: _contains(page, "#ticket-meta", "done"))


async def test_wallboard_colours_follow_a_person(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    agent_id = await _with_phone(appliance, office)
    bridge = office["bridge"]
    await _login_admin(page)
    await page.goto("/wallboard")
    await page.wait_for_selector(".queue[data-queue=hotline]")
    tile = page.locator(".agent", has_text="Agnes Åström")
    bridge.login(agent_id)
    await eventually(lambda: _has_class(tile, "ready"))
    bridge.pause(agent_id, "lunch")
    await eventually(lambda: _has_class(tile, "paused"))
    bridge.ready(agent_id)
    call_id = bridge.adapter.arrive(HOTLINE, caller="+4940999111")
    await eventually(lambda: _async(bridge.engine.agent(agent_id).state.value == "reserved"))
    await bridge.answer(call_id, agent_id)
    await eventually(lambda: _has_class(tile, "busy"))
    await screenshot(page, "wallboard-person-busy")


async def test_admin_edits_a_queue_script_and_sees_the_broken_line(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    await _login_admin(page)
    await page.click("nav >> text=Queues")
    await page.wait_for_selector("tr[data-queue=hotline]")
    await screenshot(page, "admin-queues")
    await page.click("tr[data-queue=hotline] a")
    await page.wait_for_selector("#script-text")
    await page.fill("#script-text", "play welcome\nwhen wiat > 3:\n    hangup\nqueue\n")
    await page.click("#save")
    problem = page.locator(".line-problems .problem[data-line='2']")
    await problem.wait_for()
    assert "wiat" in await problem.inner_text()
    assert await page.locator("#gutter .bad").inner_text() == "2"
    await screenshot(page, "admin-queue-script-error")
    await page.fill("#script-text", "play welcome\nwhen wait > 3:\n    announce position\nqueue\n")
    await page.click("#activate")
    await eventually(lambda: _contains(page, "#script-status", "version 1 and live"))
    assert await page.locator(".line-problems .problem").count() == 0
    assert office["bridge"].scripts["hotline"].source.startswith("play welcome\nwhen wait > 3:")


async def test_the_desk_in_german(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http, agent_name="Łucja 李 Östlund")
    await _with_phone(appliance, office)
    await _login_agent(page)
    await page.select_option("form.lang-form select", "de")
    await page.click("form.lang-form button")
    await page.wait_for_selector("html[lang=de]")
    assert await page.locator("#btn-next").inner_text() == "Nächstes nehmen"
    assert "Łucja 李 Östlund" in await page.locator(".who").inner_text()
    await page.click("#btn-login")
    await page.wait_for_selector("#state-badge.st-ready")
    assert (await page.locator("#state-badge").inner_text()).startswith("Bereit")
    await screenshot(page, "desk-german")


async def _async(value: bool) -> bool:
    return value


async def _contains(page, selector: str, text: str) -> bool:
    return text in await page.locator(selector).inner_text()


async def _has_class(locator, name: str) -> bool:
    if await locator.count() == 0:
        return False
    return name in ((await locator.first.get_attribute("class")) or "").split()
