"""The pbx_bridge service: demo configuration on a fresh database, configured queues and agents from the
database, and call history saved once per call."""
from __future__ import annotations

import asyncio
import json

from appliance.bus import Bus
from appliance.db import Database
from appliance.metrics import Metrics
from appliance.pbx.setup import human_agent_id, load_setup
from appliance.services.pbx_bridge import PbxBridgeService, save_record
from appliance.supervisor import ServiceContext


def record(call_id: str) -> dict:
    return {"call_id": call_id, "direction": "inbound", "caller": "+4940123", "dialled": "+4940111000",
            "queue_id": "support", "agent_id": "sim1", "outcome": "answered", "loss": None,
            "arrived_at": 1_700_000_000.0, "wait_s": 3.5, "talk_s": 60.0, "digits": "123456",
            "survey_score": 4, "notes": [], "decision": {"rule": "longest_idle"}}


async def test_fresh_appliance_runs_the_demo_and_saves_history(first_boot, database_url) -> None:
    db = Database(database_url)
    service = PbxBridgeService(ServiceContext({"adapter": "simulator", "ami_url": ""}, Bus(), db, None, Metrics()))
    await service.start()
    assert service.setup.demo and {q.id for q in service.setup.engine.queues()} == {"support", "sales"}
    assert service.bridge.snapshot()["agents"], "simulated agents are logged in"
    await service._record(record("sim-1"))
    await service._record(record("sim-1"))  # replayed: ignored
    from appliance.models.acd import CallRecord
    rows = await db.call(lambda: list(CallRecord.select()))
    assert len(rows) == 1 and rows[0].outcome == "answered" and json.loads(rows[0].decision)["rule"]
    task = asyncio.create_task(service.run())
    await asyncio.sleep(0.2)
    assert not task.done()
    task.cancel()
    await service.stop()
    db.close()


async def test_configured_queues_scripts_and_agents_come_from_the_database(first_boot, database_url) -> None:
    from appliance.models import Tenant, User
    from appliance.models.acd import AcdQueue, AgentPhone, QueueScriptVersion
    db = Database(database_url)

    def configure():
        tenant = Tenant.create(name="Acme")
        user = User.create(username="alice", display_name="Alice", password_hash="x", role="agent")
        queue = AcdQueue.create(tenant=tenant, key="acme-support", name="Acme support",
                                dialled_numbers="+4930100, +4930101")
        QueueScriptVersion.create(queue=queue, version=1, text="plya\n", active=False)
        QueueScriptVersion.create(queue=queue, version=2, text="announce position\nqueue\n", active=True)
        AgentPhone.create(user=user, tenant=tenant, extension="2001")
        return user.id

    user_id = await db.call(configure)
    setup = await db.call(load_setup, True)
    assert not setup.demo and not setup.problems
    assert [q.id for q in setup.engine.queues()] == ["acme-support"]
    assert setup.dialled_to_queue == {"+4930100": "acme-support", "+4930101": "acme-support"}
    assert "acme-support" in setup.scripts
    assert setup.engine.agent(human_agent_id(user_id)).extension == "2001"
    assert setup.agent_names[human_agent_id(user_id)] == "Alice"
    db.close()


async def test_a_call_to_a_service_number_is_filed_on_a_phone_ticket_once(first_boot, database_url) -> None:
    from appliance.models import Customer, CustomerIdentifier, Mailbox, Message, ServiceAddress, Tenant, Ticket
    from appliance.models.acd import CallRecord
    db = Database(database_url)

    def configure():
        tenant = Tenant.create(name="Acme", region="SE")
        mailbox = Mailbox.create(tenant=tenant, name="Hotline")
        ServiceAddress.create(tenant=tenant, mailbox=mailbox, kind="phone", value="+4684490150")
        customer = Customer.create(tenant=tenant, name="Sven Svensson")
        CustomerIdentifier.create(tenant=tenant, customer=customer, kind="phone", value="+46701234567")
        return tenant.id, mailbox.id, customer.id

    tenant_id, mailbox_id, customer_id = await db.call(configure)
    call = {**record("ast-77"), "dialled": "08-449 01 50", "caller": "070-123 45 67"}  # national, as a PBX sends
    await db.call(save_record, call, None)
    await db.call(save_record, call, None)  # replay
    ticket, messages, rows = await db.call(lambda: (Ticket.get(), list(Message.select()), list(CallRecord.select())))
    assert len(messages) == 1 and len(rows) == 1
    assert ticket.tenant_id == tenant_id and ticket.mailbox_id == mailbox_id and ticket.channel == "phone"
    assert ticket.customer_id == customer_id
    assert rows[0].ticket_id == ticket.id and rows[0].tenant_id == tenant_id
    assert "answered by sim1" in messages[0].body and "123456" in messages[0].body
    db.close()
