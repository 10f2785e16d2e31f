"""Standard workflows (F12), back-office steps (F9), outage closing (D13) as pure decisions."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from appliance.domain import workflow as wf
from appliance.domain.errors import Conflict, ValidationError

NOW = dt.datetime(2025, 5, 5, 12, 0)


def ticket(**kw) -> wf.TicketView:
    base = dict(id=1, state="open", channel="letter", owner_id=7, team_id=None, mailbox_id=None)
    return wf.TicketView(**{**base, **kw})


def test_forward_a_letter_as_email() -> None:
    plan = wf.plan_action(ticket(), wf.Action.FORWARD_EXTERNAL,
                          {"recipient": "x@example.org", "channel": "mail", "text": "see attached"}, 7, NOW)
    [msg] = plan.messages
    assert (msg.channel, msg.direction, msg.kind, msg.recipient) == ("mail", "out", "forward", "x@example.org")
    assert plan.changes == {}


def test_each_action_changes_state_as_documented() -> None:
    t = ticket()
    assert wf.plan_action(t, wf.Action.QUERY_INTERNAL, {"team_id": 3, "text": "?"}, 7, NOW).changes == \
        {"team": 3, "state": "pending"}
    assert wf.plan_action(t, wf.Action.QUERY_EXTERNAL, {"recipient": "a@b.cd", "text": "?"}, 7, NOW).changes == \
        {"state": "pending"}
    assert wf.plan_action(t, wf.Action.RESUBMIT, {"until": "2025-06-01T08:00:00Z"}, 7, NOW).changes == \
        {"state": "resubmission", "resubmit_at": dt.datetime(2025, 6, 1, 8, 0)}
    red = wf.plan_action(t, wf.Action.REDIRECT, {"mailbox_id": 4}, 7, NOW)
    assert red.changes == {"owner": None, "state": "open", "mailbox": 4} and red.check_ids == {"mailbox_id": 4}
    assert wf.plan_action(t, wf.Action.DELETE, {}, 7, NOW).changes == {"state": "deleted", "closed_at": NOW}
    assert wf.plan_action(t, wf.Action.DONE, {"category_id": 9}, 7, NOW).changes == \
        {"state": "done", "closed_at": NOW, "category": 9}
    send = wf.plan_action(t, wf.Action.SEND, {"recipient": "a@b.cd", "text": "hi", "close": True}, 7, NOW)
    assert send.changes["state"] == "done" and send.messages[0].channel == "letter"
    assert wf.plan_action(t, wf.Action.ASSIGN, {"user_id": None}, 7, NOW).changes == {"owner": None}
    assert wf.plan_action(ticket(state="done"), wf.Action.REOPEN, {}, 7, NOW).changes == \
        {"state": "open", "closed_at": None}


def test_internal_tickets_send_by_mail_unless_told() -> None:
    plan = wf.plan_action(ticket(channel="internal"), wf.Action.SEND, {"recipient": "a@b.cd", "text": "x"}, 1, NOW)
    assert plan.messages[0].channel == "mail"


def test_closed_tickets_refuse_work_but_take_notes() -> None:
    for state in ("done", "deleted"):
        with pytest.raises(Conflict):
            wf.plan_action(ticket(state=state), wf.Action.FORWARD_INTERNAL, {"user_id": 2}, 7, NOW)
        assert wf.plan_action(ticket(state=state), wf.Action.NOTE, {"text": "n"}, 7, NOW).messages
    with pytest.raises(Conflict):
        wf.plan_action(ticket(state="deleted"), wf.Action.REOPEN, {}, 7, NOW)


def test_open_back_office_steps_block_closing_and_master_closes_children() -> None:
    with pytest.raises(Conflict):
        wf.plan_action(ticket(open_steps=1), wf.Action.DONE, {}, 7, NOW)
    plan = wf.plan_action(ticket(is_master=True), wf.Action.DONE, {"child_message": "fixed"}, 7, NOW)
    assert plan.close_children and plan.child_message == "fixed"
    msg = wf.child_closing_message(5, "", "sms")
    assert msg.channel == "sms" and "#5" in msg.body
    assert wf.next_open_step([(2, False), (1, True), (3, False)]) == 2
    assert wf.next_open_step([(1, True)]) is None


@pytest.mark.parametrize("action,params,field", [
    (wf.Action.RESUBMIT, {}, "until"),
    (wf.Action.RESUBMIT, {"until": "2001-01-01T00:00:00"}, "until"),
    (wf.Action.SEND, {"text": "x"}, "recipient"),
    (wf.Action.SEND, {"recipient": "a", "text": "x", "channel": "internal"}, "channel"),
    (wf.Action.QUERY_INTERNAL, {"text": "x"}, "user_id"),
    (wf.Action.REDIRECT, {}, "mailbox_id"),
    (wf.Action.NOTE, {"text": 5}, "text"),
    (wf.Action.DONE, {"category_id": -1}, "category_id"),
    (wf.Action.NOTE, {"text": "x", "extra": 1}, "extra"),
])
def test_bad_parameters_name_the_field(action, params, field) -> None:
    with pytest.raises(ValidationError) as info:
        wf.plan_action(ticket(), action, params, 7, NOW)
    assert field in info.value.fields


@given(st.sampled_from(list(wf.Action)), st.dictionaries(st.text(max_size=12), st.one_of(
    st.none(), st.integers(), st.text(max_size=20), st.booleans(), st.lists(st.integers(), max_size=3)),
    max_size=4), st.sampled_from(wf.STATES))
def test_garbage_parameters_raise_only_declared_errors(action, params, state) -> None:
    try:
        plan = wf.plan_action(ticket(state=state), action, params, 7, NOW)
    except (ValidationError, Conflict):
        return
    assert plan.changes.get("state", state) in wf.STATES


def test_parse_action() -> None:
    assert wf.parse_action("done") is wf.Action.DONE
    with pytest.raises(ValidationError):
        wf.parse_action(["done"])
