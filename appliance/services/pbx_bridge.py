"""The PBX bridge as a supervised service: builds the ACD from the database and runs it with the configured
adapter (the built-in simulator by default)."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import logging
import random
from typing import Any, Callable

import peewee

from appliance.domain import identify as ident
from appliance.domain.identifiers import normalise
from appliance.lookup.hooks import external_lookup, tenant_hook
from appliance.models.access.prompts import hot_prompts_on
from appliance.pbx.adapter import Recording
from appliance.pbx.ami_adapter import AmiPbx
from appliance.pbx.bridge import AcdBridge
from appliance.pbx.phone_tickets import file_call
from appliance.pbx.setup import AcdSetup, load_setup
from appliance.pbx.simulated import SimulatedPbx
from appliance.security.secrets import SecretBox
from appliance.supervisor import Service

log = logging.getLogger(__name__)


def save_record(record: dict[str, Any], tenant_id: int | None,
                load_audio: Callable[[str], bytes] | None = None, box: Any = None) -> None:
    """Write one call's history row and file it on a phone ticket, in one transaction; a replay of the same
    call id is ignored (nothing twice). A voice message is filed and mailed, survey answers stored, alike."""
    from appliance.models.acd import CallRecord
    from appliance.pbx.call_media import file_voicemail, save_survey
    if CallRecord.select().where(CallRecord.call_id == record["call_id"]).exists():
        return
    ticket_tenant, ticket_id = file_call(record)
    CallRecord.insert(
        tenant=ticket_tenant or tenant_id, ticket_id=ticket_id, call_id=record["call_id"], direction=record["direction"], caller=record["caller"][:40],
        dialled=record["dialled"][:40], queue_key=record["queue_id"], agent_id=record["agent_id"],
        outcome=record["outcome"], loss=record["loss"],
        arrived_at=datetime.datetime.fromtimestamp(record["arrived_at"], datetime.timezone.utc).replace(tzinfo=None),
        wait_s=record["wait_s"], talk_s=record["talk_s"], digits=record["digits"][:40],
        survey_score=record["survey_score"], notes=json.dumps(record["notes"]),
        decision=json.dumps(record["decision"]), parties=json.dumps(record.get("parties") or []),
    ).on_conflict_ignore().execute()
    save_survey(record, ticket_tenant or tenant_id)
    if load_audio is not None:
        file_voicemail(record, ticket_tenant, ticket_id, load_audio, box)


def tenant_region(tenant_id: int) -> str:
    """The tenant's phone region, for normalising caller numbers."""
    from appliance.models import Tenant
    return Tenant.get_by_id(tenant_id).region


def customers_by(tenant_id: int, kind: str, value: str) -> list[int]:
    """Customers of a tenant with this normalised identifier (the system's view: ownership is the desk's job)."""
    from appliance.models import CustomerIdentifier
    rows = CustomerIdentifier.select(CustomerIdentifier.customer).where(
        (CustomerIdentifier.tenant == tenant_id) & (CustomerIdentifier.kind == kind)
        & (CustomerIdentifier.value == value))
    return sorted({r.customer_id for r in rows})


def describe_caller(tenant_id: int, found: ident.Identification, phone: str, region: str) -> dict[str, Any]:
    """What the offer carries about the caller: a known customer, an employee (staff directory) or unknown."""
    from appliance.models import Customer, StaffEntry
    if found.customer_ids:
        customer = Customer.get_by_id(found.customer_ids[0])
        return {"identity": "known", "id": customer.id, "name": customer.name, "number": customer.number,
                "kind": customer.kind, "via": found.via, "ambiguous": found.ambiguous,
                "candidates": found.customer_ids[:10]}
    for entry in StaffEntry.select().where((StaffEntry.tenant == tenant_id) & (StaffEntry.active == True)  # noqa
                                           & (StaffEntry.phone != "")):
        try:
            if normalise("phone", entry.phone, region) == phone:
                return {"identity": "employee", "staff_id": entry.id, "name": entry.name,
                        "department": entry.department, "title": entry.title}
        except ValueError:
            continue
    return {"identity": "unknown"}


def _queue_members() -> dict[str, frozenset[str]]:
    """Queue key -> the agents whose phone profile names it (AgentPhone.queues)."""
    from appliance.models.acd import AgentPhone
    from appliance.pbx.setup import human_agent_id
    members: dict[str, set[str]] = {}
    for phone in AgentPhone.select(AgentPhone.user, AgentPhone.queues):
        for key in filter(None, (k.strip() for k in phone.queues.split(","))):
            members.setdefault(key, set()).add(human_agent_id(phone.user_id))
    return {k: frozenset(v) for k, v in members.items()}


class PbxBridgeService(Service):
    """Runs the ACD bridge; `self.bridge` is what the desk, wallboard and API talk to."""

    name = "pbx_bridge"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.bridge: AcdBridge | None = None
        self.setup: AcdSetup | None = None
        self._task: asyncio.Task | None = None
        self._box: SecretBox | None = None

    async def start(self) -> None:
        adapter_name = self.ctx.config["adapter"]
        data = self.ctx.shared.get("data_dir")
        if data is not None:  # opens the mailbox's sealed S/MIME key for voice-message mails
            self._box = SecretBox(await asyncio.get_running_loop().run_in_executor(None, data.read_key,
                                                                                   data.store_key))
        if adapter_name == "csta":
            raise RuntimeError("the CSTA adapter is not built yet (ACD-card issue); use simulator or ami")
        self.setup = setup = await self.ctx.db.call(load_setup, adapter_name == "simulator")
        for problem in setup.problems:
            log.warning("acd configuration: %s", problem)
        if adapter_name == "ami":
            extensions = {a.extension: a.id for a in setup.engine.agents()}
            adapter = AmiPbx(self.ctx.config["ami_url"], lambda agent_id: None, extensions.get,
                             voicemail_dir=self.ctx.config.get("voicemail_dir", ""))
        else:
            adapter = SimulatedPbx(setup.traffic, setup.bots, random.Random(),
                                   survey_rate=self.ctx.config.get("sim_survey_rate", 0.6))
        self.bridge = AcdBridge(setup.engine, adapter, self.ctx.bus, scripts=setup.scripts,
                                dialled_to_queue=setup.dialled_to_queue, recorder=self._record,
                                identify=self.identify_caller,
                                default_queue=next(iter(q.id for q in setup.engine.queues()), None))
        self.bridge.agent_names.update(setup.agent_names)
        # hot prompts switched on before a restart keep playing
        self.bridge.hot_prompts.update(await self.ctx.db.call(hot_prompts_on))
        self.bridge.queue_tenants = setup.queue_tenants  # the same dict: refresh() keeps it current
        self.bridge.keep_recording = self.keep_recording
        self._apply_members(await self.ctx.db.call(_queue_members))
        for bot in sorted(setup.bots):
            self.bridge.login(bot)

    async def keep_recording(self, recording: Recording) -> dict[str, Any]:
        """Put a voice message's audio in the document store (encrypted); the call record carries its digest."""
        if self.ctx.store is None:
            raise OSError("no document store")
        digest = await asyncio.to_thread(self.ctx.store.put, recording.audio)
        return {"digest": digest, "content_type": recording.content_type, "duration_s": recording.duration_s,
                "size": len(recording.audio)}

    async def identify_caller(self, caller: str, digits: str, queue_id: str) -> dict[str, Any]:
        """The bridge's identify hook: the domain core's identification within the queue's tenant (D3, D5)."""
        tenant = self.setup.queue_tenants.get(queue_id) if self.setup else None
        if tenant is None:
            return {"identity": "unknown"}  # demo queues belong to no tenant: nobody to look up
        db = self.ctx.db
        region, hook = await db.call(tenant_hook, tenant)

        async def local(kind: str, value: str) -> list[int]:
            return await db.call(customers_by, tenant, kind, value)

        # Entered digits are tried as a customer number first; a caller number that does not parse is no match.
        probe = ident.Probe(phone=caller, number=digits if len(digits) >= 3 else "")
        # The tenant's CRM hook (HTTP or SQL) is bounded by its timeout: a slow CRM never holds the call.
        found = await ident.identify(probe, region, local, external_lookup(hook), hook.timeout_s)
        pairs, _ = ident.normalised_probe(ident.Probe(phone=caller), region)
        phone = pairs[0][1] if pairs else caller
        return await db.call(describe_caller, tenant, found, phone, region)

    async def refresh(self) -> dict[str, int]:
        """Load queues, scripts and agents' phone profiles again and apply them live (admin changes)."""
        if self.bridge is None or self.setup is None:
            return {"queues": 0, "agents_added": 0, "agents_removed": 0}
        fresh = await self.ctx.db.call(load_setup, False)
        bridge, setup = self.bridge, self.setup
        for queue in fresh.engine.queues():
            bridge.configure_queue(queue)
        setup.queue_tenants.update(fresh.queue_tenants)
        bridge.dialled_to_queue.update(fresh.dialled_to_queue)
        for key in fresh.queue_tenants:
            if key in fresh.scripts:
                bridge.scripts[key] = fresh.scripts[key]
        added = removed = 0
        for agent in fresh.engine.agents():
            added += bridge.upsert_agent(agent, fresh.agent_names.get(agent.id, agent.name))
        setup.agent_tenants.update(fresh.agent_tenants)
        for agent in list(bridge.engine.agents()):
            if agent.id not in setup.bots and agent.id not in fresh.agent_tenants and bridge.drop_agent(agent.id):
                setup.agent_tenants.pop(agent.id, None)
                removed += 1
        self._apply_members(await self.ctx.db.call(_queue_members))
        if bridge.default_queue is None:
            bridge.default_queue = next(iter(q.id for q in bridge.engine.queues()), None)
        return {"queues": len(fresh.queue_tenants), "agents_added": added, "agents_removed": removed}

    def _apply_members(self, members: dict[str, frozenset[str]]) -> None:
        # A queue named in agents' profiles is answered by those agents only; one named by nobody by anyone.
        assert self.bridge is not None
        for queue in self.bridge.engine.queues():
            wanted = members.get(queue.id)
            if queue.members != wanted:
                self.bridge.configure_queue(dataclasses.replace(queue, members=wanted))

    async def _record(self, record: dict[str, Any]) -> None:
        tenant = self.setup.queue_tenants.get(record["queue_id"]) if self.setup else None
        try:
            await self.ctx.db.call(save_record, record, tenant, self.ctx.store.get if self.ctx.store else None,
                                   self._box)
        except peewee.PeeweeException as exc:
            log.error("call record %s not saved: %r", record["call_id"], exc)
        if self.ctx.metrics is not None:
            self.ctx.metrics.inc(f"intake.phone.{record['outcome']}")

    async def run(self) -> None:
        self._task = asyncio.create_task(self.bridge.run(), name="acd-bridge")
        while True:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the ACD bridge stopped")
            self.beat()
            self._publish_metrics()
            await asyncio.sleep(self.beat_interval_s)

    def _publish_metrics(self) -> None:
        metrics = self.ctx.metrics
        if metrics is None or self.bridge is None:
            return
        snapshot = self.bridge.last_snapshot  # built once a second by the bridge; no second copy here
        if snapshot is None:
            return
        for queue in snapshot["queues"]:
            prefix = f"queue.{queue['id']}"
            metrics.set(f"{prefix}.waiting", len(queue["waiting"]))
            metrics.set(f"{prefix}.longest_wait_s", queue["longest_wait_s"])
            metrics.set(f"{prefix}.agents_free", queue["agents_free"])
            metrics.set(f"{prefix}.agents_working", queue["agents_working"])
            metrics.set(f"{prefix}.agents_logged_in", queue["agents_logged_in"])
            sl = queue["today"].get("service_level")
            if sl is not None:
                metrics.set(f"{prefix}.service_level", sl)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        if self.bridge is None:
            return {}
        return {"adapter": self.bridge.adapter.name, "demo": bool(self.setup and self.setup.demo),
                "live_calls": len(self.bridge.meta), "stale_reports": self.bridge.stale_reports,
                **self.bridge.adapter.health()}
