"""End to end on the running appliance with the built-in simulator and a real SMTP server (aiosmtpd):
a caller leaves a voice message → a phone ticket for their customer in the queue's mailbox, the recording in
the desk, a mail with the WAV attached at the SMTP sink; answered calls take the survey → the statistics (API,
admin page, CSV) agree with the stored answers."""
from __future__ import annotations

import asyncio
import csv
import email
import io
import ssl
from email import policy
from typing import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.appliance.api.client import admin_client, tenant_with_admin, user_client
from tests.appliance.mail.servers import SmtpSink, cleanup, start_smtp_sink
from tests.appliance.webui.helpers import login

HOTLINE = "+4684490150"
CALLER = "+46701234567"
FAST = 0.01  # one simulated second takes 10 ms


@pytest.fixture(scope="module")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """The relay the appliance sends through: aiosmtpd in its own process, STARTTLS and AUTH required."""
    root = tmp_path_factory.mktemp("smtp")
    server = start_smtp_sink(root)
    yield server
    server.stop()
    cleanup(root)


@pytest.fixture
async def app(first_boot, app_env, smtp_sink: SmtpSink) -> AsyncIterator:
    """The appliance in-process with the test relay configured."""
    from appliance import config
    from appliance.runtime import Appliance
    env = {**app_env, "APPLIANCE_MAIL_SMTP_PORT": "0", "APPLIANCE_MAIL_SMTP_HOST": "127.0.0.1",
           "APPLIANCE_MAIL_RELAY_URL": f"starttls://relay:relay-pw@localhost:{smtp_sink.port}",
           "APPLIANCE_MAIL_RELAY_CA_FILE": str(smtp_sink.cert), "APPLIANCE_PBX_SIM_SURVEY_RATE": "1.0"}
    appliance = Appliance(config.load(first_boot.root, env))
    await appliance.start()
    yield appliance
    await appliance.stop()


@pytest.fixture
async def http(app) -> AsyncIterator[aiohttp.ClientSession]:
    ctx = ssl.create_default_context(cafile=str(app.data.cert))
    async with aiohttp.ClientSession(base_url=f"https://localhost:{app.web_port}",
                                     connector=aiohttp.TCPConnector(ssl=ctx), cookie_jar=aiohttp.CookieJar()) as s:
        yield s


async def eventually(check, timeout: float = 30.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


async def acme(app, http, first_boot, script: str) -> dict:
    """Tenant Acme: a hotline mailbox with phone and e-mail addresses, a customer, a queue with `script`."""
    admin = await admin_client(http, first_boot.admin_password)
    tenant, tenant_admin = await tenant_with_admin(admin, "Acme")
    customer = await tenant_admin.post("/customers", {"name": "Sven Svensson", "phones": [CALLER]})

    def configure():
        from appliance.models import Mailbox, ServiceAddress
        from appliance.models.acd import AcdQueue, QueueScriptVersion
        mailbox = Mailbox.create(tenant=tenant["id"], name="Hotline")
        ServiceAddress.create(tenant=tenant["id"], mailbox=mailbox, kind="phone", value=HOTLINE)
        ServiceAddress.create(tenant=tenant["id"], mailbox=mailbox, kind="email", value="hotline@acme.example")
        queue = AcdQueue.create(tenant=tenant["id"], key="acme", name="Acme hotline", dialled_numbers=HOTLINE)
        QueueScriptVersion.create(queue=queue, version=1, text=script, active=True)
        return mailbox.id

    mailbox_id = await app.db.call(configure)
    service = app.supervisor.service("pbx_bridge")
    await service.refresh()
    bridge = service.bridge
    bridge.time_scale = bridge.adapter.time_scale = FAST
    bridge.adapter.voice_cap_s = 3.0
    return {"tenant": tenant, "admin": tenant_admin, "customer": customer, "mailbox_id": mailbox_id,
            "bridge": bridge, "system_admin": admin}


def arrive(bridge, caller: str = CALLER) -> str:
    from appliance.pbx.simulated import SimTraffic
    return bridge.adapter.arrive(SimTraffic("acme", HOTLINE, 0, handle_mean_s=20, patience_mean_s=None),
                                 caller=caller)


async def test_a_voice_message_becomes_a_ticket_and_a_mail_with_the_recording(app, http, first_boot,
                                                                              smtp_sink) -> None:
    office = await acme(app, http, first_boot, "voicemail to=boss@acme.example max=30\n")
    before = len(smtp_sink.received())
    call_id = arrive(office["bridge"])

    def filed():
        from appliance.models.acd_media import VoiceMessage
        return VoiceMessage.get_or_none(VoiceMessage.call_id == call_id)

    vm = await eventually(lambda: app.db.call(filed))
    assert vm.to_address == "boss@acme.example" and vm.outbox_id is not None and not vm.mail_error
    audio = app.store.get(vm.digest)
    assert audio[:4] == b"RIFF" and len(audio) == vm.size

    admin = office["admin"]
    ticket = await admin.get(f"/tickets/{vm.ticket_id}")
    assert ticket["channel"] == "phone" and ticket["customer_id"] == office["customer"]["id"]
    assert ticket["mailbox_id"] == office["mailbox_id"]
    messages = (await admin.get(f"/tickets/{vm.ticket_id}/messages"))["items"]
    voice = [m for m in messages if m["kind"] == "voicemail"]
    assert len(voice) == 1 and "sent by e-mail to boss@acme.example" in voice[0]["body"]
    listed = (await admin.get(f"/tickets/{vm.ticket_id}/voice-messages"))["items"]
    assert [v["message_id"] for v in listed] == [voice[0]["id"]]
    async with http.get(listed[0]["audio_url"], headers={"Authorization": f"Bearer {admin.token}"}) as resp:
        assert resp.status == 200 and resp.content_type == "audio/wav"
        assert await resp.read() == audio

    async def mailed():
        fresh = smtp_sink.received()[before:]
        return fresh[0] if fresh else None

    raw = await eventually(mailed)
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "boss@acme.example" and mail["From"] == "hotline@acme.example"
    assert f"#{vm.ticket_id}" in mail["Subject"] and mail["Auto-Submitted"] == "auto-generated"
    parts = [p for p in mail.iter_attachments()]
    assert len(parts) == 1 and parts[0].get_content_type() == "audio/wav"
    assert parts[0].get_content() == audio, "the attachment is the stored recording"

    # Another tenant's user cannot reach the recording.
    other, other_admin = await tenant_with_admin(office["system_admin"], "Other")
    status, _ = await other_admin.call("GET", f"/voice-messages/{vm.id}/audio")
    assert status == 404
    status, _ = await other_admin.call("GET", f"/tickets/{vm.ticket_id}/voice-messages")
    assert status == 404


async def test_survey_answers_make_the_statistics(app, http, first_boot) -> None:
    office = await acme(app, http, first_boot, "survey overall helpful scale=5\nqueue\n")
    bridge = office["bridge"]  # the simulator's agents (started before any queue existed) answer
    assert bridge.adapter.bots
    calls = [arrive(bridge, caller=f"+4670123456{n}") for n in range(6)]

    def answers():
        from appliance.models.acd_media import SurveyAnswer
        return list(SurveyAnswer.select().where(SurveyAnswer.call_id.in_(calls)))

    async def all_answered():
        rows = await app.db.call(answers)
        return rows if len(rows) == 2 * len(calls) else None

    rows = await eventually(all_answered)
    assert {r.agent_id for r in rows} <= bridge.adapter.bots and all(1 <= r.answer <= 5 for r in rows)
    assert {r.tenant_id for r in rows} == {office["tenant"]["id"]}
    values = [r.answer for r in rows]
    expected_avg = round(sum(values) / len(values), 2)

    stats = await office["admin"].get("/acd/surveys/stats", queue="acme")
    total = stats["total"]
    assert total["calls"] == 6 and total["answers"] == 12 and total["average"] == expected_avg
    assert total["distribution"] == {str(v): values.count(v) for v in range(1, 6)}
    assert [q["answers"] for q in total["questions"]] == [6, 6]
    assert sum(d["answers"] for d in total["per_day"]) == 12
    per_agent = await office["admin"].get("/acd/surveys/stats", by="agent")
    assert {g["key"]: g["answers"] for g in per_agent["groups"]} == {
        a: sum(1 for r in rows if r.agent_id == a) for a in {r.agent_id for r in rows}}
    status, body = await office["admin"].call("GET", "/acd/surveys/stats", by="team")
    assert status == 400 and "by" in body["fields"]

    status, text = await office["admin"].call("GET", "/acd/surveys/answers.csv", queue="acme")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and sorted(int(r["answer"]) for r in exported) == sorted(values)

    # The admin page shows the same figures; another tenant sees none of them.
    await login(http, "acme-admin", "Tenant-Acme-Pass-1")
    async with http.get("/admin/surveys", params={"queue": "acme"}) as resp:
        page = await resp.text()
        assert resp.status == 200
    assert f'id="total-answers">12<' in page and f'id="total-average">{expected_avg:.2f}<' in page
    assert 'id="survey-chart"' in page and 'data-key="acme"' in page
    _, other = await tenant_with_admin(office["system_admin"], "Other")
    empty = await other.get("/acd/surveys/stats")
    assert empty["total"]["answers"] == 0 and empty["groups"] == []
