"""Standard ticket workflows (F12), back-office steps (F9) and outage closing (D13), as pure decisions.

`plan_action` looks at a ticket and an action and says what changes and which messages to write;
the data layer applies the plan in one transaction.
"""
from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Any

from appliance.domain.errors import Conflict, ValidationError
from appliance.domain.schema import Field, Schema

CHANNELS = ("mail", "phone", "fax", "letter", "sms", "chat", "internal", "web")
STATES = ("open", "pending", "resubmission", "done", "deleted")
FINAL_STATES = ("done", "deleted")


class Action(str, enum.Enum):
    """The workflow actions of F12, plus assignment and reopening."""

    RESUBMIT = "resubmit"
    NOTE = "note"
    QUERY_INTERNAL = "query_internal"
    QUERY_EXTERNAL = "query_external"
    FORWARD_INTERNAL = "forward_internal"
    FORWARD_EXTERNAL = "forward_external"
    REDIRECT = "redirect"
    DELETE = "delete"
    DONE = "done"
    SEND = "send"
    ASSIGN = "assign"
    REOPEN = "reopen"


_TEXT = Field("text", max_length=100_000)
_RECIPIENT = Field("recipient", required=True, max_length=254)
_OUT_CHANNEL = Field("channel", choices=tuple(c for c in CHANNELS if c != "internal"),
                     help="channel of the outgoing message; any channel, whatever the ticket's (F12)")
PARAMS: dict[Action, Schema] = {
    Action.RESUBMIT: Schema("resubmit", (Field("until", "datetime", required=True), _TEXT)),
    Action.NOTE: Schema("note", (Field("text", required=True, max_length=100_000),)),
    Action.QUERY_INTERNAL: Schema("query_internal", (Field("user_id", "id"), Field("team_id", "id"),
                                                     Field("text", required=True, max_length=100_000))),
    Action.QUERY_EXTERNAL: Schema("query_external", (_RECIPIENT, _OUT_CHANNEL, Field("subject", max_length=300),
                                                     Field("text", required=True, max_length=100_000))),
    Action.FORWARD_INTERNAL: Schema("forward_internal", (Field("user_id", "id"), Field("team_id", "id"), _TEXT)),
    Action.FORWARD_EXTERNAL: Schema("forward_external", (_RECIPIENT, _OUT_CHANNEL, Field("subject", max_length=300),
                                                         _TEXT)),
    Action.REDIRECT: Schema("redirect", (Field("mailbox_id", "id"), Field("team_id", "id"), _TEXT)),
    Action.DELETE: Schema("delete", (_TEXT,)),
    Action.DONE: Schema("done", (Field("category_id", "id"), _TEXT,
                                 Field("child_message", max_length=100_000,
                                       help="sent to the customer of every linked ticket (D13)"))),
    Action.SEND: Schema("send", (_RECIPIENT, _OUT_CHANNEL, Field("subject", max_length=300),
                                 Field("text", required=True, max_length=100_000), Field("close", "bool"))),
    Action.ASSIGN: Schema("assign", (Field("user_id", "id", nullable=True), Field("team_id", "id"))),
    Action.REOPEN: Schema("reopen", (_TEXT,)),
}


@dataclass(frozen=True)
class TicketView:
    """What the workflow needs to know about a ticket."""

    id: int
    state: str
    channel: str
    owner_id: int | None
    team_id: int | None
    mailbox_id: int | None
    open_steps: int = 0
    is_master: bool = False


@dataclass(frozen=True)
class MessageSpec:
    """A message the plan writes on the ticket."""

    kind: str
    direction: str
    channel: str
    body: str
    recipient: str = ""
    subject: str = ""


@dataclass
class Plan:
    """The outcome of an action: field changes, messages, and whether linked child tickets close."""

    changes: dict[str, Any] = field(default_factory=dict)
    messages: list[MessageSpec] = field(default_factory=list)
    close_children: bool = False
    child_message: str = ""
    check_ids: dict[str, int] = field(default_factory=dict)  # ids the data layer must find in the tenant


def parse_action(name: Any) -> Action:
    """The action named in a request; ValidationError naming `action` otherwise."""
    try:
        return Action(name)
    except ValueError:
        raise ValidationError({"action": "must be one of " + ", ".join(a.value for a in Action)}) from None


def plan_action(ticket: TicketView, action: Action, raw_params: Any, actor_id: int,
                now: datetime.datetime) -> Plan:
    """What `action` does to `ticket`; raises ValidationError on bad parameters, Conflict on bad state."""
    params = PARAMS[action].validate(raw_params if raw_params is not None else {})
    if ticket.state in FINAL_STATES and action not in (Action.NOTE, Action.REOPEN):
        raise Conflict(f"ticket {ticket.id} is {ticket.state}; reopen it first")
    plan = Plan()
    text = params.get("text") or ""
    out_channel = params.get("channel") or (ticket.channel if ticket.channel != "internal" else "mail")
    if action == Action.RESUBMIT:
        if params["until"] <= now:
            raise ValidationError({"until": "must be in the future"})
        plan.changes = {"state": "resubmission", "resubmit_at": params["until"]}
        if text:
            plan.messages.append(MessageSpec("note", "internal", "internal", text))
    elif action == Action.NOTE:
        plan.messages.append(MessageSpec("note", "internal", "internal", text))
    elif action in (Action.QUERY_INTERNAL, Action.FORWARD_INTERNAL, Action.ASSIGN):
        _need_target(params, ("user_id", "team_id"), action == Action.ASSIGN)
        plan.changes = _assignment(params)
        plan.check_ids = {k: v for k, v in params.items() if k in ("user_id", "team_id") and v}
        if action == Action.QUERY_INTERNAL:
            plan.changes["state"] = "pending"
            plan.messages.append(MessageSpec("query", "internal", "internal", text))
        elif action == Action.FORWARD_INTERNAL:
            plan.changes["state"] = "open"
            plan.messages.append(MessageSpec("forward", "internal", "internal", text))
    elif action in (Action.QUERY_EXTERNAL, Action.FORWARD_EXTERNAL, Action.SEND):
        kind = {Action.QUERY_EXTERNAL: "query", Action.FORWARD_EXTERNAL: "forward", Action.SEND: "reply"}[action]
        plan.messages.append(MessageSpec(kind, "out", out_channel, text, params["recipient"],
                                         params.get("subject", "")))
        if action == Action.QUERY_EXTERNAL:
            plan.changes = {"state": "pending"}
        elif action == Action.SEND and params.get("close"):
            plan.changes = _closing(ticket, now)
    elif action == Action.REDIRECT:
        _need_target(params, ("mailbox_id", "team_id"), False)
        # Redirect hands the ticket to another mailbox or team as if it had arrived there: no owner.
        plan.changes = {"owner": None, "state": "open"}
        for key, column in (("mailbox_id", "mailbox"), ("team_id", "team")):
            if params.get(key):
                plan.changes[column] = params[key]
                plan.check_ids[key] = params[key]
        plan.messages.append(MessageSpec("redirect", "internal", "internal", text))
    elif action == Action.DELETE:
        plan.changes = {"state": "deleted", "closed_at": now}
        if text:
            plan.messages.append(MessageSpec("note", "internal", "internal", text))
    elif action == Action.DONE:
        plan.changes = _closing(ticket, now)
        if params.get("category_id"):
            plan.changes["category"] = params["category_id"]
            plan.check_ids["category_id"] = params["category_id"]
        if text:
            plan.messages.append(MessageSpec("note", "internal", "internal", text))
        plan.close_children = ticket.is_master
        plan.child_message = params.get("child_message") or ""
    elif action == Action.REOPEN:
        if ticket.state != "done":
            raise Conflict(f"only a done ticket can be reopened; ticket {ticket.id} is {ticket.state}")
        plan.changes = {"state": "open", "closed_at": None}
        if text:
            plan.messages.append(MessageSpec("note", "internal", "internal", text))
    return plan


def _need_target(params: dict[str, Any], keys: tuple[str, str], allow_null: bool) -> None:
    if not any(k in params and (params[k] is not None or allow_null) for k in keys):
        raise ValidationError({keys[0]: f"give {keys[0]} or {keys[1]}"})


def _assignment(params: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "user_id" in params:
        changes["owner"] = params["user_id"]
    if params.get("team_id"):
        changes["team"] = params["team_id"]
    return changes


def _closing(ticket: TicketView, now: datetime.datetime) -> dict[str, Any]:
    # F9: back-office steps are part of the workflow; the ticket is not done while one is open.
    if ticket.open_steps:
        raise Conflict(f"ticket {ticket.id} has {ticket.open_steps} open back-office step(s)")
    return {"state": "done", "closed_at": now}


def child_closing_message(master_id: int, text: str, channel: str) -> MessageSpec:
    """The message each linked child ticket's customer gets when the master closes (D13)."""
    body = text or f"The problem reported in ticket #{master_id} has been resolved."
    return MessageSpec("reply", "out", channel if channel != "internal" else "mail", body)


def next_open_step(steps: list[tuple[int, bool]]) -> int | None:
    """Position of the first open back-office step, given (position, done) pairs (F9: in order)."""
    for position, done in sorted(steps):
        if not done:
            return position
    return None
