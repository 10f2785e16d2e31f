"""In Chromium: the prompt catalogue (upload, versions, activation, a holiday rule, usage, deletion refused with
the reason), a voice message playing in the desk's ticket timeline, and the survey statistics with their chart."""
from __future__ import annotations

import datetime

from tests.appliance.webui.test_acd_config_api import wav_bytes
from tests.appliance.webui.test_desk import office_setup
from tests.browser.conftest import browser_login_admin, eventually, screenshot
from tests.browser.test_desk import _login_agent


async def _text_has(page, selector: str, wanted: str) -> bool:
    loc = page.locator(selector)
    return await loc.count() > 0 and wanted in await loc.first.inner_text()


async def test_prompt_catalogue_versions_rules_and_usage(appliance, first_boot, page) -> None:
    await browser_login_admin(page, first_boot.admin_password)
    await page.goto("/admin/prompts")
    await page.wait_for_selector("#prompt-list td.empty")
    await page.fill("#pu-name", "welcome")
    await page.fill("#pu-language", "sv")
    await page.set_input_files("#pu-file", files=[{"name": "v1.wav", "mimeType": "audio/wav", "buffer": wav_bytes(0.5)}])
    await page.click("#prompt-upload button[type=submit]")
    await page.wait_for_selector("#prompt-detail:not([hidden]) #pd-versions li[data-version='1'] audio")
    await page.fill("#pu-name", "welcome")
    await page.fill("#pu-language", "sv")
    await page.select_option("#pu-activate", "later")
    await page.set_input_files("#pu-file", files=[{"name": "v2.wav", "mimeType": "audio/wav", "buffer": wav_bytes(1.0)}])
    await page.click("#prompt-upload button[type=submit]")
    await page.wait_for_selector("#pd-versions li[data-version='2'] button.activate")
    await page.click("#pd-versions li[data-version='2'] button.activate")
    await eventually(lambda: _text_has(page, "#pd-versions li[data-version='2']", "active"))
    await eventually(lambda: _text_has(page, "#pd-now", "2"))

    await page.select_option("#pr-kind", "holiday")
    await page.select_option("#pr-version", "1")
    await page.click("#pd-rule button[type=submit]")
    await page.wait_for_selector("#pd-rules li[data-rule]")

    def use_it():
        from appliance.models import Tenant
        from appliance.models.acd import AcdQueue, QueueScriptVersion
        queue = AcdQueue.create(tenant=Tenant.create(name="Acme"), key="acme", name="Acme")
        QueueScriptVersion.create(queue=queue, version=1, text="play welcome\nqueue\n", active=True)
    await appliance.db.call(use_it)
    await page.click("#prompt-list button[data-id]")
    await eventually(lambda: _text_has(page, "#pd-uses", "acme"))
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#pd-delete")
    await eventually(lambda: _text_has(page, "#pd-error", "is used by queue acme script v1 line 1 (play)"))
    await screenshot(page, "admin-prompts")


async def test_a_voice_message_plays_in_the_desk_timeline(appliance, first_boot, http, page) -> None:
    office = await office_setup(appliance, first_boot, http)
    audio = wav_bytes(1.0)
    digest = appliance.store.put(audio)
    ticket = office["ticket"]

    def leave_message():
        from appliance.models import Message
        from appliance.models.acd_media import VoiceMessage
        msg = Message.create(tenant=ticket["tenant_id"], ticket=ticket["id"], channel="phone", kind="voicemail",
                             sender="+49401234567", body="Call from +49401234567: caller left a voice message.")
        VoiceMessage.create(tenant=ticket["tenant_id"], call_id="sim-77", to_address="boss@acme.example",
                            digest=digest, duration_s=1.0, size=len(audio), ticket_id=ticket["id"],
                            message_id=msg.id, mail_error="not mailed: the mailbox has no e-mail address to send from")
    await appliance.db.call(leave_message)

    from tests.appliance.webui.helpers import csrf_from, login
    await login(http, "acme-admin", "Tenant-Acme-Pass-1")
    token = await csrf_from(http, "/admin/queues")
    async with http.post("/admin/queues/phones", data={"csrf_token": token, "user_id": str(office["agent"]["id"]),
                                                       "extension": "2001", "queues": "hotline"}) as r:
        assert r.status == 200
    await _login_agent(page)
    await page.click(f"#my-tickets button[data-id='{ticket['id']}']")
    player = page.locator("#ticket-timeline li.kind-voicemail audio.voice")
    await player.wait_for()
    src = await player.get_attribute("src")
    resp = await page.request.get(src)
    assert resp.status == 200 and resp.headers["content-type"] == "audio/wav" and await resp.body() == audio
    assert "no e-mail address" in await page.locator("#ticket-timeline li.kind-voicemail").inner_text()
    await screenshot(page, "desk-voice-message")


async def test_survey_statistics_page_shows_the_figures_and_chart(appliance, first_boot, page) -> None:
    def answers():
        from appliance.models.acd_media import SurveyAnswer
        today = datetime.datetime.utcnow().replace(hour=12)
        for day in range(5):
            for n, value in enumerate((5, 4, 5, 3)):
                SurveyAnswer.create(call_id=f"c{day}-{n}", queue_key="support", agent_id=f"sim{n + 1}", question=1,
                                    answer=value, answered_at=today - datetime.timedelta(days=day))
    await appliance.db.call(answers)
    await browser_login_admin(page, first_boot.admin_password)
    await page.goto("/admin/surveys")
    await page.wait_for_selector("#survey-chart rect.bar")
    assert (await page.locator("#total-answers").inner_text()) == "20"
    assert (await page.locator("#total-average").inner_text()) == "4.25"
    assert await page.locator("#survey-chart rect.bar").count() == 5
    await page.select_option("#s-by", "agent")
    await page.click("#survey-filter button[type=submit]")
    await page.wait_for_selector("#survey-groups tr[data-key='sim4']")
    await screenshot(page, "admin-surveys")
    await page.fill("#s-since", "2026-01-10")
    await page.fill("#s-until", "2026-01-01")
    await page.click("#survey-filter button[type=submit]")
    await page.wait_for_selector("#err-since")


async def test_hot_prompts_switched_on_per_language_and_off_by_keyboard(appliance, first_boot, page) -> None:
    await browser_login_admin(page, first_boot.admin_password)
    await page.goto("/admin/prompts")
    await page.wait_for_selector("#hot-list li.empty")
    await page.fill("#hot-name", "outage_notice")
    await page.fill("#hot-language", "de")
    await page.press("#hot-language", "Enter")
    await page.wait_for_selector("#hot-list li[data-hot='outage_notice/de']")
    assert await page.input_value("#hot-name") == "", "the form is ready for the next one"
    await page.fill("#hot-name", "outage_notice")
    await page.press("#hot-name", "Enter")
    await page.wait_for_selector("#hot-list li[data-hot='outage_notice/']")
    assert "every caller" in await page.inner_text("#hot-list li[data-hot='outage_notice/']")
    await page.fill("#hot-name", "storm")
    await page.fill("#hot-language", "German")
    await page.press("#hot-language", "Enter")  # refused by the form's own check, nothing sent
    assert await page.locator("#hot-list li[data-hot^='storm']").count() == 0
    bridge = appliance.supervisor.service("pbx_bridge").bridge
    assert bridge.hot_prompts == {(None, "outage_notice", "de"), (None, "outage_notice", "")}
    await page.focus("#hot-list li[data-hot='outage_notice/de'] button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#hot-list li[data-hot='outage_notice/de']", state="detached")
    assert bridge.hot_prompts == {(None, "outage_notice", "")}
    await screenshot(page, "admin-hot-prompts")
