"""Small builders shared by the ACD tests."""
from __future__ import annotations

from appliance.domain.acd import AcdEngine, Agent, Call, Decision, QueueConfig


def engine_with(queues: list[QueueConfig], agents: list[Agent], login_at: dict[str, float] | None = None,
                **engine_kwargs: object) -> AcdEngine:
    """An engine with these queues and agents; the agents named in login_at are logged in ready then."""
    engine = AcdEngine(**engine_kwargs)  # type: ignore[arg-type]
    for queue in queues:
        engine.add_queue(queue)
    for agent in agents:
        engine.add_agent(agent)
    for agent_id, at in (login_at or {}).items():
        engine.agent_login(agent_id, at)
    engine.route(max(login_at.values()) if login_at else 0.0)
    return engine


def agent(agent_id: str, ext: str, **kw: object) -> Agent:
    """An agent with the given id and extension."""
    return Agent(agent_id, ext, **kw)  # type: ignore[arg-type]


def offer_of(decisions: list[Decision], call_id: str) -> Decision:
    """The single decision about this call."""
    found = [d for d in decisions if d.call_id == call_id]
    assert len(found) == 1, decisions
    return found[0]


def new_call(call_id: str, **kw: object) -> Call:
    """A call with this id."""
    return Call(call_id, **kw)  # type: ignore[arg-type]
