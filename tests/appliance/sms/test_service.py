"""The sms service inside the running appliance, against its emulated GSM modem: SMS in to a ticket with
the customer, a reply out that the network receives, the status report back on the message."""
from __future__ import annotations

import aiohttp

from appliance.models import Message, Ticket
from appliance.sms import emulated
from appliance.sms.models import SmsOutbox
from hardware.gsm.pdu import SubmitPdu, decode_pdu
from tests.appliance.api.client import admin_client
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
    assert await until_true(lambda: app.metrics.read().get("intake.sms.received") == 1)

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
