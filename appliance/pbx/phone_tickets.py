"""Every call becomes a message on a phone ticket (B2, B7, C7): the dialled number picks the tenant and
mailbox through its service address, the caller number identifies the customer, and the call id is the
idempotency key, so a replayed record files nothing twice."""
from __future__ import annotations

from typing import Any

from appliance.domain.identifiers import normalise_phone
from appliance.intake.sink import InboundMessage
from appliance.intake.tickets import ModelTicketSink
from appliance.models import ServiceAddress, Tenant

OUTCOME_TEXT = {
    "answered": "answered by {agent} after {wait:.0f} s, talked {talk:.0f} s",
    "abandoned": "caller hung up after {wait:.0f} s ({loss})",
    "overflowed": "sent on (overflow) after {wait:.0f} s",
    "transferred": "transferred by {agent}",
    "callback_requested": "caller asked to be called back",
    "voicemail": "caller left a voice message",
    "script_hangup": "ended by the queue script (closed)",
}


PARTY_TEXT = {
    "consult": "{by} consulted {to}", "transfer": "{by} transferred the call to {to}",
    "conference": "{by} joined {to} in a three-way call", "left": "{by} left the three-way call",
    "busy": "{to} was busy", "no_answer": "{to} did not answer", "cancelled": "{by} ended the consultation",
}


def party_line(party: dict[str, Any]) -> str:
    """One consultation, transfer or three-way step as a line of the phone ticket (B3, B12)."""
    import datetime
    at = datetime.datetime.fromtimestamp(party.get("at") or 0, datetime.timezone.utc).strftime("%H:%M:%S UTC")
    text = PARTY_TEXT[party["kind"]].format(by=party.get("by") or "-", to=party.get("to") or "-")
    return f"{at}: {text}"


def _e164(raw: str, region: str) -> str | None:
    try:
        return normalise_phone(raw, region)
    except ValueError:
        return None


def service_number(dialled: str) -> ServiceAddress | None:
    """The phone service address a dialled number reaches (national numbers read in each tenant's region)."""
    candidates = {dialled} if dialled.startswith("+") else set()
    for region in {t.region for t in Tenant.select(Tenant.region)} or {"DE"}:
        number = _e164(dialled, region)
        if number:
            candidates.add(number)
    if not candidates:
        return None
    return (ServiceAddress.select().where((ServiceAddress.kind == "phone") & (ServiceAddress.value.in_(candidates)))
            .first())


def file_call(record: dict[str, Any]) -> tuple[int | None, int | None]:
    """File the call on a phone ticket; returns (tenant id, ticket id), (None, None) for unknown numbers.

    Runs inside the caller's transaction (Database.call)."""
    address = service_number(record.get("dialled") or "")
    if address is None:
        return None, None
    region = address.tenant.region
    caller = _e164(record.get("caller") or "", region) or (record.get("caller") or "")
    text = OUTCOME_TEXT.get(record["outcome"], record["outcome"]).format(
        agent=record.get("agent_id") or "-", wait=record.get("wait_s") or 0, talk=record.get("talk_s") or 0,
        loss=(record.get("loss") or "").replace("_", " "))
    lines = [f"Call from {caller or 'an unknown number'} to {record.get('dialled')}: {text}."]
    if record.get("digits"):
        lines.append(f"Entered digits: {record['digits']}")
    lines += [f"Note: {n}" for n in record.get("notes") or []]
    lines += [party_line(p) for p in record.get("parties") or [] if p.get("kind") in PARTY_TEXT]
    if record.get("survey_score") is not None:
        lines.append(f"Satisfaction survey: {record['survey_score']} of 5")
    delivery = ModelTicketSink().deliver(InboundMessage(
        tenant_id=address.tenant_id, channel="phone", idempotency_key=f"call:{record['call_id']}",
        source_ref=record["call_id"], sender=caller, recipient=record.get("dialled") or "",
        subject=f"Call from {caller or 'unknown caller'}", body="\n".join(lines), mailbox_id=address.mailbox_id,
        kind="voicemail" if record.get("voicemail") else "call"))
    return address.tenant_id, delivery.ticket_id
