"""The sms service inside the running appliance, against its emulated GSM modem: SMS in to a ticket with
the customer, a reply out that the network receives, the status report back on the message."""
from __future__ import annotations

import asyncio

import aiohttp

from appliance.models import Message, Ticket
from appliance.sms import emulated
from appliance.sms.models import SmsOutbox
from hardware.gsm.pdu import SubmitPdu, decode_pdu
from tests.appliance.api.client import admin_client, tenant_with_admin
from tests.appliance.webui.helpers import CSRF_RE, login_admin
from tests.appliance.sms.conftest import CUSTOMER_NUMBER, SERVICE_NUMBER, make_org, until, until_true


async def modem_up(app, name: str = "gsm-a"):
    svc = app.supervisor.service("sms")
    assert await until_true(lambda: svc.runners[name].state == "up"), svc.health()
    return svc, svc.emulators()[name]


async def test_sms_in_reply_out_and_status_report(app, web: aiohttp.ClientSession) -> None:
    org = await app.db.call(make_org, "Acme")
    svc, emu = await modem_up(app)
    emu.inject_sms(text="Hello, my router blinks red since this morning.", sender=CUSTOMER_NUMBER)

    msg = await until(app, lambda: Message.get_or_none(Message.channel == "sms", Message.direction == "in"))
    assert msg is not None, svc.health()
    ticket = await app.db.call(Ticket.get_by_id, msg.ticket_id)
    assert (msg.tenant_id, msg.sender, msg.recipient) == (org["tenant_id"], CUSTOMER_NUMBER, SERVICE_NUMBER)
    assert msg.body == "Hello, my router blinks red since this morning."
    assert (ticket.channel, ticket.customer_id, ticket.mailbox_id) == ("sms", org["customer_id"], org["mailbox_id"])
    assert await until_true(lambda: emulated.stored_count(emu) == 0), "the SIM was not emptied"
    assert await until_true(lambda: app.metrics.read().get("intake.sms.received") == 1), {k: v for k, v in app.metrics.read().items() if "sms" in k}

    # An agent answers on the ticket through the domain API: the service finds it and sends it.
    admin = await admin_client(web, app.first_boot_password)
    reply = "We see the fault and send a technician tomorrow between 8 and 12. Your ticket is " \
            f"#{ticket.id}; answer this SMS to reach us. Ünïcödé stays, too: 😀"
    created = await admin.post(f"/tickets/{ticket.id}/messages",
                               {"channel": "sms", "direction": "out", "kind": "reply", "body": reply})
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.message == created["id"],
                                                         SmsOutbox.state == "sent"))
    assert row is not None and row.modem == "gsm-a", svc.health()
    parts = [decode_pdu(s.raw) for s in emu.sent]
    assert row.parts == len(parts) >= 2  # UCS-2 (the emoji): 67 characters a part
    assert all(isinstance(p, SubmitPdu) and str(p.to) == CUSTOMER_NUMBER for p in parts)
    assert "".join(p.text for p in parts).encode("utf-16", "surrogatepass").decode("utf-16") == reply
    assert all(p.status_report_request for p in parts)

    # The network reports each part delivered: the message is delivered.
    first = await admin.get("/sms", message_id=created["id"])
    assert first["items"][0]["state"] == "sent"
    for sent in emu.sent:
        emu.deliver_report(sent.reference, 0)
    done = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == row.id, SmsOutbox.state == "delivered"))
    assert done is not None
    shown = await admin.get(f"/sms/{row.id}")
    assert shown["state"] == "delivered" and [p["status_text"] for p in shown["parts"]] == \
        ["received by the recipient"] * len(parts)
    assert await until_true(lambda: app.metrics.read().get("intake.sms.sent") == 1)


async def test_unplugged_modem_is_shown_reopened_and_catches_up(app, web: aiohttp.ClientSession) -> None:
    org = await app.db.call(make_org, "Acme")
    svc, emu = await modem_up(app)
    runner = svc.runners["gsm-a"]
    await emulated.unplug(emu)
    assert await until_true(lambda: runner.state == "down"), runner.health()
    assert "closed" in runner.last_error or "unplugged" in runner.last_error
    assert await until_true(lambda: app.metrics.read()["hardware.gsm-a.up"] == 0.0)
    assert await until_true(lambda: app.supervisor.service("sms").ctx.shared["hardware"]["gsm-a"]["state"] == "down")
    # While it is out: an SMS waits on the SIM, and a notification waits in the outbox without spending tries.
    emu.inject_sms(text="Are you there?", sender=CUSTOMER_NUMBER)
    admin = await admin_client(web, app.first_boot_password)
    queued = await admin.post("/sms", {"to": CUSTOMER_NUMBER, "text": "Maintenance tonight 22-23 h.",
                                       "tenant_id": org["tenant_id"]}, expect=202)
    await asyncio.sleep(1.5)
    assert (await admin.get(f"/sms/{queued['id']}"))["attempts"] == 0
    assert emu.sent == []
    health = (await admin.call("GET", "/sms/modems", expect=200))[1]
    assert health["modems"][0]["state"] == "down" and health["modems"][0]["last_error"]
    emulated.plug_in(emu)
    assert await until_true(lambda: runner.state == "up", 15), runner.health()
    assert runner.opened == 2
    msg = await until(app, lambda: Message.get_or_none(Message.channel == "sms", Message.body == "Are you there?"))
    assert msg is not None
    sent = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.state == "sent"))
    assert sent is not None and [decode_pdu(s.raw).text for s in emu.sent] == ["Maintenance tonight 22-23 h."]


async def test_send_api_checks_its_input_and_is_idempotent(app, web: aiohttp.ClientSession) -> None:
    admin = await admin_client(web, app.first_boot_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    status, answer = await acme.call("POST", "/sms", {"to": "not a number", "text": "", "from": "+4930999999",
                                                      "colour": "red"})
    assert status == 400 and set(answer["fields"]) == {"to", "text", "from", "colour"}
    status, answer = await acme.call("POST", "/sms", {"to": CUSTOMER_NUMBER, "text": "x" * 6000})
    assert status == 400 and "text" in answer["fields"]
    body = {"to": "0170 1234567", "text": "Your parcel arrives today.", "idempotency_key": "parcel-1"}
    first = await acme.post("/sms", body, expect=202)
    again = await acme.post("/sms", body, expect=200)
    assert first["id"] == again["id"] and again["duplicate"] and first["to"] == CUSTOMER_NUMBER
    svc, emu = await modem_up(app)
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == first["id"], SmsOutbox.state == "sent"))
    assert row is not None and len(emu.sent) == 1
    listed = await acme.get("/sms")
    assert [i["id"] for i in listed["items"]] == [first["id"]]
    # Another tenant sees none of it.
    _, globex = await tenant_with_admin(admin, "Globex")
    assert (await globex.get("/sms"))["items"] == []
    assert (await globex.call("GET", f"/sms/{first['id']}"))[0] == 404
    # Only the appliance admin drives the emulated network.
    assert (await acme.call("POST", "/sms/emulator/gsm-a/inject", {"from": "+1", "text": "x"}))[0] == 403


async def test_admin_page_plays_the_emulated_network(app, web: aiohttp.ClientSession) -> None:
    org = await app.db.call(make_org, "Acme")
    svc, emu = await modem_up(app)
    await login_admin(web, app.first_boot_password)
    async with web.get("/admin/sms") as resp:
        page = await resp.text()
    assert resp.status == 200 and "Emulated GSM network" in page and SERVICE_NUMBER in page
    token = CSRF_RE.search(page).group(1)
    async with web.post("/admin/sms/emulator/gsm-a/inject", data={"csrf_token": token, "from": CUSTOMER_NUMBER,
                                                                  "text": "Typed into the admin page"}) as resp:
        assert resp.status == 200  # redirected back to the page
    msg = await until(app, lambda: Message.get_or_none(Message.body == "Typed into the admin page"))
    assert msg is not None and msg.tenant_id == org["tenant_id"]
    # A reply through the API, then the network's report given on the page.
    body = {"to": CUSTOMER_NUMBER, "text": "Thanks, noted.", "ticket_id": msg.ticket_id, "tenant_id": org["tenant_id"]}
    async with web.post("/api/v1/sms", json=body, headers={"X-CSRF-Token": token}) as resp:
        queued = await resp.json()
        assert resp.status == 202, queued
    assert queued["message_id"] and queued["kind"] == "reply"
    assert await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"], SmsOutbox.state == "sent"))
    async with web.get("/admin/sms") as resp:
        page = await resp.text()
    assert "Thanks, noted." in page and 'name="outcome" value="delivered"' in page
    async with web.post("/admin/sms/emulator/gsm-a/report", data={"csrf_token": token, "outcome": "failed",
                                                                  "reference": str(emu.sent[-1].reference)}) as resp:
        assert resp.status == 200
    row = await until(app, lambda: SmsOutbox.get_or_none(SmsOutbox.id == queued["id"],
                                                         SmsOutbox.state == "undeliverable"))
    assert row is not None
    async with web.get("/admin/sms") as resp:
        assert "incompatible destination" in await resp.text()


async def test_long_sms_is_joined_and_a_bad_pdu_is_quarantined(app, web: aiohttp.ClientSession) -> None:
    org = await app.db.call(make_org, "Acme")
    svc, emu = await modem_up(app)
    long_text = "Sehr geehrte Damen und Herren, seit drei Tagen funktioniert mein Telefon nicht. " * 3
    slots = emu.inject_sms(text=long_text, sender=CUSTOMER_NUMBER, reference=99)
    assert len(slots) == 2
    [good] = emu.inject_sms(text="short one", sender="+4930555000")
    bad = bytes.fromhex(emu_pdu_hex(emu, good))[:-4] + b"\xff"  # a DELIVER whose user data is cut short
    emu.inject_sms(pdu=bad)
    msg = await until(app, lambda: Message.get_or_none(Message.body == long_text))
    assert msg is not None and msg.tenant_id == org["tenant_id"], svc.health()
    assert await until_true(lambda: svc.health()["quarantined"] == 1)
    admin = await admin_client(web, app.first_boot_password)
    [entry] = (await admin.get("/quarantine"))["items"]
    assert entry["channel"] == "sms" and "undecodable SMS PDU" in entry["reason"]
    assert entry["source"].startswith("gsm:gsm-a")
    auth = {"Authorization": f"Bearer {admin.token}"}
    async with web.get(f"/api/v1/quarantine/{entry['id']}/raw", headers=auth) as r:
        assert await r.read() == bad
    assert await until_true(lambda: app.metrics.read().get("intake.sms.quarantined") == 1)
    assert await until_true(lambda: emulated.stored_count(emu) == 0)


def emu_pdu_hex(emu, index: int) -> str:
    """The PDU the emulated SIM holds at `index`."""
    return next(store[index].pdu.hex() for store in emu.stores.values() if index in store)
