"""The PBX bridge as a supervised service: builds the ACD from the database and runs it with the configured
adapter (the built-in simulator by default)."""
from __future__ import annotations

import asyncio
import datetime
import json
import logging
import random
from typing import Any

import peewee

from appliance.pbx.bridge import AcdBridge
from appliance.pbx.setup import AcdSetup, load_setup
from appliance.pbx.simulated import SimulatedPbx
from appliance.supervisor import Service

log = logging.getLogger(__name__)


def save_record(record: dict[str, Any], tenant_id: int | None) -> None:
    """Write one call's history row; a replay of the same call id is ignored (nothing twice)."""
    from appliance.models.acd import CallRecord
    CallRecord.insert(
        tenant=tenant_id, call_id=record["call_id"], direction=record["direction"], caller=record["caller"][:40],
        dialled=record["dialled"][:40], queue_key=record["queue_id"], agent_id=record["agent_id"],
        outcome=record["outcome"], loss=record["loss"],
        arrived_at=datetime.datetime.fromtimestamp(record["arrived_at"], datetime.timezone.utc).replace(tzinfo=None),
        wait_s=record["wait_s"], talk_s=record["talk_s"], digits=record["digits"][:40],
        survey_score=record["survey_score"], notes=json.dumps(record["notes"]),
        decision=json.dumps(record["decision"]),
    ).on_conflict_ignore().execute()


class PbxBridgeService(Service):
    """Runs the ACD bridge; `self.bridge` is what the desk, wallboard and API talk to."""

    name = "pbx_bridge"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.bridge: AcdBridge | None = None
        self.setup: AcdSetup | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        adapter_name = self.ctx.config["adapter"]
        if adapter_name != "simulator":
            raise RuntimeError(f"the {adapter_name} adapter is not wired into the service yet; "
                               "set pbx.adapter = \"simulator\"")
        self.setup = setup = await self.ctx.db.call(load_setup, True)
        for problem in setup.problems:
            log.warning("acd configuration: %s", problem)
        adapter = SimulatedPbx(setup.traffic, setup.bots, random.Random())
        self.bridge = AcdBridge(setup.engine, adapter, self.ctx.bus, scripts=setup.scripts,
                                dialled_to_queue=setup.dialled_to_queue, recorder=self._record,
                                default_queue=next(iter(q.id for q in setup.engine.queues()), None))
        self.bridge.agent_names.update(setup.agent_names)
        for bot in sorted(setup.bots):
            self.bridge.login(bot)

    async def _record(self, record: dict[str, Any]) -> None:
        tenant = self.setup.queue_tenants.get(record["queue_id"]) if self.setup else None
        try:
            await self.ctx.db.call(save_record, record, tenant)
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
        for queue in self.bridge.snapshot()["queues"]:
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
