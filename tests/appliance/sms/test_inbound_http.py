"""SMS in from an HTTP(S) gateway: `POST /api/v1/sms/inbound` lands on a ticket like a modem's SMS, once
per gateway id, threaded with the sender's SMS; bad bodies are refused naming the field; a tenant can
post only to its own numbers."""
from __future__ import annotations

import json

import aiohttp

from appliance.models import Mailbox, Message, ServiceAddress, Ticket
from tests.appliance.api.client import admin_client, tenant_with_admin
from tests.appliance.sms.conftest import until

ACME_NUMBER, GLOBEX_NUMBER = "+4930123456", "+4940123456"


def _serve(tenant_id: int, number: str) -> int:
    box = Mailbox.create(tenant=tenant_id, name="SMS", settings=json.dumps({}))
    ServiceAddress.create(tenant=tenant_id, mailbox=box, kind="sms", value=number)
    return box.id


async def test_inbound_sms_lands_on_a_ticket_once(app, web: aiohttp.ClientSession) -> None:
    admin = await admin_client(web, app.first_boot_password)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    box = await app.db.call(_serve, tenant["id"], ACME_NUMBER)
    body = {"from": "0170 1234567", "to": "030 123456", "text": "Mein Router blinkt rot. \"Hilfe\" & 😀",
            "id": "gw-4711"}
    answer = await acme.post("/sms/inbound", body, expect=202)
    assert answer == {"accepted": True, "id": "gw-4711", "to": ACME_NUMBER, "from": "+491701234567"}
    msg = await until(app, lambda: Message.get_or_none(Message.channel == "sms", Message.direction == "in"))
    assert msg is not None, app.supervisor.service("sms").health()
    assert (msg.tenant_id, msg.sender, msg.recipient, msg.body) == (tenant["id"], "+491701234567", ACME_NUMBER,
                                                                    body["text"])
    ticket = await app.db.call(Ticket.get_by_id, msg.ticket_id)
    assert (ticket.channel, ticket.mailbox_id) == ("sms", box)

    # The gateway repeats it (it lost our 202): still one message. A new one joins the same ticket.
    await acme.post("/sms/inbound", body, expect=202)
    await acme.post("/sms/inbound", {**body, "id": 4712, "text": "Still red."}, expect=202)
    second = await until(app, lambda: Message.get_or_none(Message.body == "Still red."))
    assert second is not None and second.ticket_id == msg.ticket_id
    await app.supervisor.service("sms").drain_now()
    count = await app.db.call(lambda: Message.select().where(Message.channel == "sms").count())
    assert count == 2
    seen = await acme.get(f"/tickets/{msg.ticket_id}")
    assert seen["id"] == msg.ticket_id


async def test_bad_bodies_name_the_field(app, web: aiohttp.ClientSession) -> None:
    admin = await admin_client(web, app.first_boot_password)
    tenant, acme = await tenant_with_admin(admin, "Acme")
    await app.db.call(_serve, tenant["id"], ACME_NUMBER)
    async with web.post("/api/v1/sms/inbound", data=b'{"from": ', headers={"Authorization": f"Bearer {acme.token}",
                                                                          "Content-Type": "application/json"}) as r:
        assert r.status == 400 and "body" in (await r.json())["fields"]
    status, answer = await acme.call("POST", "/sms/inbound", {"from": "", "to": "x", "text": 5, "colour": "red"})
    assert status == 400 and set(answer["fields"]) == {"from", "to", "text", "id", "colour"}
    status, answer = await acme.call("POST", "/sms/inbound", ["not", "an", "object"])
    assert status == 400 and "body" in answer["fields"]
    status, answer = await acme.call("POST", "/sms/inbound", {"from": "+491701234567", "to": "+4989999999",
                                                              "text": "x", "id": "1"})
    assert status == 400 and "service numbers" in answer["fields"]["to"]
    async with web.post("/api/v1/sms/inbound", json={"from": "a", "to": ACME_NUMBER, "text": "x", "id": "1"}) as r:
        assert r.status == 401
    count = await app.db.call(lambda: Message.select().where(Message.channel == "sms").count())
    assert count == 0


async def test_a_tenant_cannot_post_to_another_tenants_number(app, web: aiohttp.ClientSession) -> None:
    admin = await admin_client(web, app.first_boot_password)
    acme_tenant, acme = await tenant_with_admin(admin, "Acme")
    globex_tenant, globex = await tenant_with_admin(admin, "Globex")
    await app.db.call(_serve, acme_tenant["id"], ACME_NUMBER)
    await app.db.call(_serve, globex_tenant["id"], GLOBEX_NUMBER)
    body = {"from": "+491701234567", "to": ACME_NUMBER, "text": "x", "id": "g-1"}
    status, answer = await globex.call("POST", "/sms/inbound", body)
    assert status == 400 and answer["fields"]["to"].startswith("is not one of your")
    # The appliance admin's token (one gateway for every tenant) may post to any tenant's number.
    await admin.post("/sms/inbound", body, expect=202)
    msg = await until(app, lambda: Message.get_or_none(Message.channel == "sms", Message.direction == "in"))
    assert msg is not None and msg.tenant_id == acme_tenant["id"]
