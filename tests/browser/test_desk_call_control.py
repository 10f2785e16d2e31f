"""In Chromium: an agent consults a number that is busy, consults another that answers, makes a three-way call,
completes the transfer, then picks the queue's required wrap-up codes, which show in the call history.
Screenshots of the consultation, the three-way and the wrap-up picker go to tests/artifacts/screens/."""
from __future__ import annotations

from appliance.pbx.simulated import SimTraffic
from tests.browser.conftest import eventually, screenshot
from tests.browser.test_desk import _async, _contains, _login_agent, _with_phone
from tests.appliance.webui.test_desk import office_setup

HOTLINE = SimTraffic("hotline", "+4940555000", 0, handle_mean_s=100_000, patience_mean_s=None)


async def test_consult_three_way_transfer_and_wrap_up_codes(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, bridge = office["acme"], office["bridge"]
    from appliance.models.acd import AcdQueue
    await appliance.db.call(lambda: AcdQueue.update(wrap_up_required=True).where(AcdQueue.key == "hotline")
                            .execute())
    await acme.post("/wrap-up-codes", {"code": "invoice", "name": "Rechnungsfrage"})
    await acme.post("/wrap-up-codes", {"code": "handed-on", "name": "An Fachabteilung übergeben"})
    agent_id = await _with_phone(appliance, office)
    pbx = bridge.adapter
    pbx.busy_targets.add("+4930555")
    pbx.answer_delay_s = (0.2, 0.4)

    await _login_agent(page)
    await page.click("#btn-login")
    await page.wait_for_selector("#state-badge.st-ready")
    call_id = pbx.arrive(HOTLINE, caller="040 1234567")
    await page.wait_for_selector("#call-panel[data-state=ringing]")
    await page.keyboard.press("a")
    await page.wait_for_selector("#call-panel[data-state=connected]")
    await page.wait_for_selector("#btn-mute:not([disabled])")

    await page.keyboard.press("m")  # mute by shortcut
    await eventually(lambda: _async((call_id, agent_id) in pbx.muted))
    await page.click("#btn-mute")
    await eventually(lambda: _async((call_id, agent_id) not in pbx.muted))

    await page.keyboard.press("c")  # the consult field takes the number
    await page.keyboard.type("+49 30 555")
    await page.keyboard.press("Enter")
    await eventually(lambda: _contains(page, "#flash", "busy"))  # the PBX said busy: back with the customer
    await page.wait_for_selector("#cc[data-state=talking]")

    await page.fill("#consult-target", "+49 30 777")
    await page.click("#btn-consult")
    await page.wait_for_selector("#cc[data-state=talking] #btn-conference:not([disabled])")
    assert "on hold" in await page.locator("#cc-parties li[data-role=customer]").inner_text()
    assert "+4930777" in await page.locator("#cc-parties li[data-role=consulted]").inner_text()
    await screenshot(page, "desk-consultation")

    await page.keyboard.press("3")  # three-way by shortcut
    await page.wait_for_selector("#cc[data-state=conference]")
    assert "connected" in await page.locator("#cc-parties li[data-role=customer]").inner_text()
    await screenshot(page, "desk-three-way")

    await page.click("#btn-complete")
    await page.wait_for_selector("#wrapup:not([hidden])")
    assert call_id not in pbx.calls  # the outside party has the customer now
    assert not await page.locator("#wrapup-required").is_hidden()
    await page.click("#btn-ready")  # refused: the codes come first
    await eventually(lambda: _contains(page, "#flash", "wrap-up"))
    assert bridge.engine.agent(agent_id).state.value == "wrap_up"
    await page.check("#wrapup-codes input[value=handed-on]")
    await page.fill("#wrapup-note", "An Buchhaltung übergeben")
    await screenshot(page, "desk-wrap-up-codes")
    await page.click("#wrapup-save")
    await page.wait_for_selector("#wrapup[hidden]", state="attached")
    await page.wait_for_selector("#state-badge.st-ready")

    await page.keyboard.press("?")
    await page.wait_for_selector("dialog#shortcuts[open]")
    assert "Three-way call" in await page.locator("dialog#shortcuts").inner_text()
    await page.keyboard.press("Escape")

    rows = []

    async def recorded() -> bool:
        nonlocal rows
        rows = (await acme.get("/calls"))["items"]
        return bool(rows)

    await eventually(recorded)
    assert rows[0]["wrap_up_codes"] == ["handed-on"] and rows[0]["outcome"] == "transferred"
    assert [p["kind"] for p in rows[0]["parties"]] == ["consult", "busy", "consult", "answered", "conference",
                                                       "transfer"]


async def test_attended_transfer_to_a_colleague_at_another_desk(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    acme, bridge = office["acme"], office["bridge"]
    from tests.appliance.api.client import user_client
    bert, _ = await user_client(acme, "bert", display_name="Bert Bäcker")
    from appliance.models.acd import AgentPhone
    await appliance.db.call(lambda: AgentPhone.create(user=bert["id"], tenant=office["tenant"]["id"],
                                                      extension="2002", queues="nothing-here"))
    agent_id = await _with_phone(appliance, office)
    colleague = f"u{bert['id']}"
    bridge.adapter.answer_delay_s = (0.2, 0.4)
    other = await page.context.browser.new_context(ignore_https_errors=True, viewport={"width": 1366, "height": 768},
                                                   base_url=f"https://localhost:{appliance.web_port}")
    bert_page = await other.new_page()
    bert_errors: list[str] = []
    bert_page.on("pageerror", lambda exc: bert_errors.append(str(exc)))
    await bert_page.goto("/login")
    await bert_page.fill("input[name=username]", "bert")
    await bert_page.fill("input[name=password]", "bert-Pass-123")
    await bert_page.click("form[action='/login'] button[type=submit]")
    await bert_page.wait_for_url("**/desk")
    await bert_page.click("#btn-login")
    await bert_page.wait_for_selector("#state-badge.st-ready")

    await _login_agent(page)
    await page.click("#btn-login")
    await page.wait_for_selector("#state-badge.st-ready")
    call_id = bridge.adapter.arrive(HOTLINE, caller="040 7654321")
    await page.wait_for_selector("#call-panel[data-state=ringing]")
    await page.click("#btn-answer")
    await page.wait_for_selector("#btn-consult:not([disabled])")
    await page.fill("#consult-target", "2002")
    await page.click("#btn-consult")
    # the colleague's desk follows the consultation: busy, the customer on hold, a hang-up button
    await bert_page.wait_for_selector("#cc[data-role=consulted][data-state=talking]")
    await bert_page.wait_for_selector("#state-badge.st-busy")
    assert "Bert Bäcker" in await page.locator("#cc-parties li[data-role=consulted]").inner_text()
    await screenshot(bert_page, "desk-consulted-colleague")

    await page.keyboard.press("k")  # complete the transfer by shortcut
    await bert_page.wait_for_selector("#call-panel[data-state=connected]")
    await bert_page.wait_for_selector("#cc[data-role=lead] #btn-consult:not([disabled])")
    assert "040 7654321" in await bert_page.locator("#call-caller").inner_text()
    await page.wait_for_selector("#state-badge.st-wrap_up, #state-badge.st-ready")
    assert bridge.engine.call(call_id).agent_id == colleague and bridge.engine.agent(agent_id).call_id is None
    await screenshot(bert_page, "desk-transferred-to-colleague")

    await bert_page.click("#btn-hangup")
    await eventually(lambda: _async(call_id not in bridge.adapter.calls))
    rows = []

    async def recorded() -> bool:
        nonlocal rows
        rows = (await acme.get("/calls"))["items"]
        return bool(rows)

    await eventually(recorded)
    transfer = [p for p in rows[0]["parties"] if p["kind"] == "transfer"][0]
    assert transfer["by"] == agent_id and transfer["to"] == "2002" and transfer["to_agent"] == colleague
    await other.close()
    assert not bert_errors, bert_errors


async def test_the_customer_verifies_in_the_ivr_by_keyboard_and_the_panel_shows_the_result(appliance, first_boot,
                                                                                          http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    await office["acme"].post("/customers", {"name": "Olga Other", "number": "100234"})
    await _with_phone(appliance, office)
    pbx = office["bridge"].adapter
    pbx.time_scale = 0.05
    pbx.verify_answers["+4940999000"] = "100234"

    await _login_agent(page)
    await page.click("#btn-login")
    await page.wait_for_selector("#state-badge.st-ready")
    pbx.arrive(HOTLINE, caller="+4940999000")
    await page.wait_for_selector("#call-panel[data-state=ringing]")
    assert await page.locator("#btn-verify").is_disabled(), "not before the call is answered"
    await page.keyboard.press("a")
    await page.wait_for_selector("#btn-verify:not([disabled])")
    await page.keyboard.press("v")
    await page.wait_for_selector("#cc-verify[data-state=collecting]")
    assert "in the verification" in await page.locator("#cc-parties li[data-role=customer]").inner_text()
    await page.wait_for_selector("#cc-verify[data-state=verified]")
    assert "Olga Other" in await page.inner_text("#cc-verify") and "100234" in await page.inner_text("#cc-verify")
    assert "connected" in await page.locator("#cc-parties li[data-role=customer]").inner_text()
    await eventually(lambda: _contains(page, "#pop-name", "Olga Other"))  # the verified customer's file opens
    await screenshot(page, "desk-verified")

    pbx.verify_answers["+4940999000"] = "4711"
    await page.select_option("#verify-kind", "digits")
    await page.click("#btn-verify")
    await page.wait_for_selector("#cc-verify[data-state=entered]")
    assert "4711" in await page.inner_text("#cc-verify")
    await page.keyboard.press("?")
    assert "verification in the IVR" in await page.inner_text("#shortcuts")


async def test_logging_in_with_an_outside_number_rings_it(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    agent_id = await _with_phone(appliance, office)
    pbx = office["bridge"].adapter
    await _login_agent(page)
    await page.fill("#login-phone", "0170 1234567")  # no country code: refused, the field's reason shown
    await page.press("#login-phone", "Enter")
    await eventually(lambda: _contains(page, "#flash", "international format"))
    await page.fill("#login-phone", "+49 170 1234567")
    await page.press("#login-phone", "Enter")
    await page.wait_for_selector("#state-badge.st-ready")
    assert "+491701234567" in await page.inner_text("#ext")
    pbx.arrive(HOTLINE, caller="+4940999000")
    await page.wait_for_selector("#call-panel[data-state=ringing]")
    assert pbx.rung[agent_id] == "+491701234567"
    await screenshot(page, "desk-external-phone")
    await page.click("#btn-logout")
    await page.wait_for_selector("#login-form:not([hidden])")
    assert await page.inner_text("#ext") == "Extension 2001"
