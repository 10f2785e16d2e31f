"""Workflow messages that leave by mail really go to the mail outbox, through HTTP: closing an outage ticket
mails each linked customer (D13), a letter forwarded as e-mail is queued (F12), and a mail that cannot be sent
is a 400 naming the recipient with nothing changed."""
from __future__ import annotations

import json

from appliance.mail.models import MailOutbox
from tests.appliance.api.client import admin_client, tenant_with_admin


def outbox_of(ticket_id: int) -> list[tuple[list[str], str, bytes]]:
    return [(json.loads(r.rcpt_to), r.mail_from, bytes(r.raw))
            for r in MailOutbox.select().where(MailOutbox.ticket == ticket_id).order_by(MailOutbox.id)]


async def test_outage_closing_and_mail_actions_queue_real_mail(appliance, first_boot, http) -> None:
    admin = await admin_client(http, first_boot.admin_password)
    _, acme = await tenant_with_admin(admin, "Acme")
    box = await acme.post("/mailboxes", {"name": "Support", "addresses": ["support@acme.example"]})
    outage = await acme.post("/tickets", {"subject": "Network outage Hamburg"})
    children = []
    for i in range(2):
        c = await acme.post("/customers", {"name": f"Customer {i}", "emails": [f"c{i}@example.org"]})
        child = await acme.post("/tickets", {"subject": f"no internet {i}", "channel": "mail", "customer_id": c["id"],
                                             "mailbox_id": box["id"]})
        await acme.post(f"/tickets/{child['id']}/link", {"master_id": outage["id"]})
        children.append(child)
    # A child with no mailbox and no customer address: closed all the same, its message kept for a person.
    orphan = await acme.post("/tickets", {"subject": "no internet either", "channel": "mail"})
    await acme.post(f"/tickets/{orphan['id']}/link", {"master_id": outage["id"]})

    await acme.post(f"/tickets/{outage['id']}/actions", {"action": "done", "child_message": "Fixed, sorry!"})
    for i, child in enumerate(children):
        queued = await appliance.db.call(outbox_of, child["id"])
        assert len(queued) == 1
        rcpt, sender, raw = queued[0]
        assert rcpt == [f"c{i}@example.org"] and sender == "support@acme.example"
        assert b"Fixed, sorry!" in raw
        last = (await acme.get(f"/tickets/{child['id']}/messages"))["items"][-1]
        assert (last["channel"], last["direction"], last["recipient"]) == ("mail", "out", f"c{i}@example.org")
        assert (await acme.get(f"/tickets/{child['id']}"))["state"] == "done"
        own = (await acme.get("/audit", object_type="ticket", object_id=child["id"]))["items"][-1]
        assert (own["action"], own["detail"], own["username"]) == (
            "action.done", {"master_id": outage["id"], "mailed": True}, "acme-admin")
    assert (await acme.get(f"/tickets/{orphan['id']}"))["state"] == "done"
    assert await appliance.db.call(outbox_of, orphan["id"]) == []
    trail = (await acme.get("/audit", object_type="ticket", object_id=outage["id"]))["items"]
    detail = next(e["detail"] for e in trail if e["action"] == "action.done")
    assert str(orphan["id"]) in detail["children_not_mailed"]

    # F12: a letter forwarded as e-mail leaves through the outbox; a bad address is refused, nothing written.
    letter = await acme.post("/tickets", {"subject": "Scanned letter", "channel": "letter", "mailbox_id": box["id"]})
    status, body = await acme.call("POST", f"/tickets/{letter['id']}/actions",
                                   {"action": "query_external", "channel": "mail", "recipient": "not an address",
                                    "text": "Which contract?"})
    assert status == 400 and "recipient" in body["fields"]
    assert (await acme.get(f"/tickets/{letter['id']}"))["state"] == "open"
    assert (await acme.get(f"/tickets/{letter['id']}/messages"))["items"] == []
    await acme.post(f"/tickets/{letter['id']}/actions", {"action": "forward_external", "channel": "mail",
                                                         "recipient": "Lawyer@Example.org", "text": "see scan"})
    queued = await appliance.db.call(outbox_of, letter["id"])
    assert [q[0] for q in queued] == [["lawyer@example.org"]] and b"see scan" in queued[0][2]
    last = (await acme.get(f"/tickets/{letter['id']}/messages"))["items"][-1]
    assert (last["channel"], last["direction"], last["kind"]) == ("mail", "out", "forward")
    # Without a mailbox address to send from, a mail send is a 400, and the ticket stays as it was.
    bare = await acme.post("/tickets", {"subject": "no mailbox", "channel": "mail"})
    status, body = await acme.call("POST", f"/tickets/{bare['id']}/actions",
                                   {"action": "send", "recipient": "x@example.org", "text": "hi", "close": True})
    assert status == 400 and "sending address" in body["fields"]["recipient"]
    assert (await acme.get(f"/tickets/{bare['id']}"))["state"] == "open"
