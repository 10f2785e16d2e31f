"""IVR verification mid-call and back (B12), mixed into the PBX bridge (`AcdBridge`): the agent sends the customer
into an IVR step that collects digits (a customer number, or digits such as a PIN the agent compares) while the
agent waits; the customer comes back to the same agent and the result goes to the desk's call panel.

The call stays connected to the agent in the ACD throughout (the agent is busy, nobody else is offered it); the
PBX carries the caller out and back (simulator: a pause; Asterisk: Redirect to `acd-verify`, Bridge back).
"""
from __future__ import annotations

import logging
from typing import Any

from appliance.domain.acd import AcdError, CallState
from appliance.pbx.adapter import PbxAdapter, UnsupportedAction

log = logging.getLogger(__name__)

# What the caller is asked for: a customer number is checked against the tenant's customers; other digits
# (a PIN, a contract number) are shown to the agent as entered.
VERIFY_KINDS = ("customer_number", "digits")


class CallVerification:
    """Start a verification and turn the digits that come back into a result for the call panel."""

    async def verify(self, call_id: str, agent_id: str, kind: str = "customer_number") -> dict[str, Any]:
        """Send the customer of this agent's call into the IVR step; returns the call panel's view at once
        (the result follows as a `call.parties` event). ValueError for an unknown kind, AcdError when the
        call is not in a state for it, UnsupportedAction when the PBX cannot."""
        if kind not in VERIFY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(VERIFY_KINDS)}")
        call = self.engine.call(call_id)
        if call.state is not CallState.CONNECTED or call.agent_id != agent_id:
            raise AcdError("only the agent talking with the customer can send them to a verification")
        if call.consult is not None:
            raise AcdError("finish the consultation or three-way first")
        meta = self.meta.get(call_id)
        if meta is None:
            raise AcdError(f"call {call_id} is not carried by the PBX")
        if meta.verification and meta.verification.get("state") == "collecting":
            raise AcdError("the customer is already in a verification")
        if type(self.adapter).verify is PbxAdapter.verify:
            raise UnsupportedAction(f"{self.adapter.name} cannot send the caller to a verification")
        meta.verification = {"kind": kind, "state": "collecting", "by": agent_id}
        self._note(call_id, "verify", by=agent_id, what=kind)
        self._parties_changed(call_id)
        self._spawn(self._verification(meta, agent_id, kind), f"verify-{call_id}")
        return self.call_view(call_id)

    async def _verification(self, meta: Any, agent_id: str, kind: str) -> None:
        reason = ""
        try:
            digits = await self.adapter.verify(meta.call_id, agent_id, kind)
        except UnsupportedAction as exc:  # the PBX failed to carry the caller out: they stayed with the agent
            digits, reason = None, str(exc)
        call = self._call_or_none(meta.call_id)
        if meta.call_id not in self.meta or call is None or call.state is not CallState.CONNECTED:
            meta.verification = {"kind": kind, "by": agent_id, "state": "ended", "digits": ""}
            return  # a party hung up meanwhile: the call is over, the history has the "verify" step
        result = await self._verification_result(meta, kind, digits)
        if reason:
            result.update(state="failed", reason=reason)
        meta.verification = result
        self._note(meta.call_id, result["state"], by=agent_id, what=kind)
        self._parties_changed(meta.call_id, extra=(agent_id,))

    async def _verification_result(self, meta: Any, kind: str, digits: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {"kind": kind, "by": meta.verification.get("by") if meta.verification else None,
                                  "digits": digits or ""}
        if not digits:
            return {**result, "state": "no_input"}
        if kind != "customer_number":
            return {**result, "state": "entered"}
        found: dict[str, Any] = {}
        if self.identify is not None:
            try:  # the number alone: the caller's phone must not make an unknown number look verified
                found = await self.identify("", digits, meta.queue_id) or {}
            except Exception as exc:  # noqa: BLE001 - a failing lookup is a result for the agent, not a crash
                log.warning("verification lookup of %s failed: %r", meta.call_id, exc)
                return {**result, "state": "failed", "reason": "customer lookup failed"}
        if found.get("identity") != "known" or found.get("ambiguous"):
            return {**result, "state": "not_verified"}
        customer = {k: found.get(k) for k in ("id", "name", "number")}
        known_id = (meta.customer or {}).get("id")
        if known_id is not None and known_id != customer["id"]:
            return {**result, "state": "mismatch", "customer": customer}
        if not meta.customer or meta.customer.get("identity") != "known":
            meta.customer = found  # identified now: the ticket and the record carry this customer
        return {**result, "state": "verified", "customer": customer}
