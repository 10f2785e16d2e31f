"""Overflow conditions (B8): which rule of a queue sends a call elsewhere, and what that counts as."""
from __future__ import annotations

from typing import Sequence

from appliance.domain.acd.calls import LossType
from appliance.domain.acd.decisions import Rule
from appliance.domain.acd.index import Segment
from appliance.domain.acd.queues import OverflowRule, OverflowWhen, QueueConfig

RULE_FOR_WHEN: dict[OverflowWhen, Rule] = {
    OverflowWhen.NO_AGENTS: Rule.OVERFLOW_NO_AGENTS,
    OverflowWhen.WAIT_OVER: Rule.OVERFLOW_WAIT,
    OverflowWhen.SIZE_OVER: Rule.OVERFLOW_SIZE,
    OverflowWhen.CLOSED: Rule.OVERFLOW_CLOSED,
}

# a call given up by a rule without a target is lost: by timeout when it waited too long, otherwise
# because nobody could take it (no agents, closed, full)
LOSS_FOR_WHEN: dict[OverflowWhen, LossType] = {
    OverflowWhen.NO_AGENTS: LossType.NO_AGENT,
    OverflowWhen.WAIT_OVER: LossType.TIMEOUT,
    OverflowWhen.SIZE_OVER: LossType.NO_AGENT,
    OverflowWhen.CLOSED: LossType.NO_AGENT,
}


def nobody_logged_in(segments: Sequence[Segment]) -> bool:
    """True if no agent able to take the call is logged in, in any queue it waits in."""
    return all(seg.logged_in == 0 for seg in segments)


def rule_on_arrival(queue: QueueConfig, segments: Sequence[Segment], waiting: int, now: float) -> OverflowRule | None:
    """The first rule of the queue that holds as a call arrives (`waiting` calls already there), if any."""
    for rule in queue.overflow:
        when = rule.when
        if when is OverflowWhen.CLOSED:
            if queue.calendar is not None and not queue.calendar.is_open(now):
                return rule
        elif when is OverflowWhen.NO_AGENTS:
            if nobody_logged_in(segments):
                return rule
        elif when is OverflowWhen.SIZE_OVER:
            if waiting >= rule.threshold:
                return rule
    return None


def wait_rules(queue: QueueConfig) -> list[tuple[int, OverflowRule]]:
    """The queue's wait-time rules with their positions (their timers start when a call enters the queue)."""
    return [(i, rule) for i, rule in enumerate(queue.overflow) if rule.when is OverflowWhen.WAIT_OVER]


def no_agents_rule(queue: QueueConfig) -> OverflowRule | None:
    """The queue's rule for when the last able agent logs out, if it has one."""
    for rule in queue.overflow:
        if rule.when is OverflowWhen.NO_AGENTS:
            return rule
    return None
