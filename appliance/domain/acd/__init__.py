"""The ACD (automatic call distribution) core: queues, agents, routing, calendar, Erlang C, simulator.

Pure: no sockets, database or event loop; time is passed in as seconds, randomness as `random.Random`.
Drive an `AcdEngine` with what happens (logins, calls, answers, hang-ups), call `route(now)` for the
decisions to carry out and `tick(now)` at `next_deadline()`; hand `drain_events()` to the bus.
"""
from __future__ import annotations

from appliance.domain.acd.agents import (Agent, AgentGroup, AgentState, ReadinessMode, mask_number,
                                        validate_extension)
from appliance.domain.acd.calendar import OpeningCalendar, parse_hours
from appliance.domain.acd.callers import CallerRouter, CallerRule, RouteTarget
from appliance.domain.acd.calls import Call, CallState, Consult, ConsultState, LossType
from appliance.domain.acd.decisions import Candidate, Decision, DecisionAction, Offer, Rule, Trigger
from appliance.domain.acd.engine import AcdEngine
from appliance.domain.acd.errors import (AcdConfigError, AcdError, InvalidExtension, InvalidTransition,
                                         InvalidValue, UnknownAgent, UnknownCall, UnknownQueue)
from appliance.domain.acd.events import AcdEvent, AcdEventKind
from appliance.domain.acd.queues import OverflowRule, OverflowWhen, PriorityMode, QueueConfig, Strategy
from appliance.domain.acd.stats import QueueStats

__all__ = [
    "AcdConfigError", "AcdEngine", "AcdError", "AcdEvent", "AcdEventKind", "Agent", "AgentGroup", "AgentState",
    "Call", "CallState", "CallerRouter", "Consult", "ConsultState", "CallerRule", "Candidate", "Decision", "DecisionAction",
    "InvalidExtension", "InvalidTransition", "InvalidValue", "LossType", "Offer", "OpeningCalendar",
    "OverflowRule", "OverflowWhen", "PriorityMode", "QueueConfig", "QueueStats", "ReadinessMode", "RouteTarget",
    "Rule", "Strategy", "Trigger", "UnknownAgent", "UnknownCall", "UnknownQueue", "mask_number", "parse_hours",
    "validate_extension",
]
