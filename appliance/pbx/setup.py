"""Building the ACD from the database: queues, active scripts, agents (people with a phone profile), and the
simulator's demo traffic when nothing is configured yet, so a fresh appliance shows live calls."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import datetime

from appliance.domain.acd import AcdConfigError, AcdEngine, Agent, OpeningCalendar, QueueConfig, Strategy, parse_hours
from appliance.domain.queue_script import Script, ScriptError, parse
from appliance.pbx.simulated import SimTraffic

log = logging.getLogger(__name__)

DEMO_BOTS = 8
# A working day's shape: quiet nights, a morning peak and a smaller one after lunch (calls per hour).
DEMO_HOURLY = [2, 1, 1, 1, 1, 2, 10, 40, 90, 110, 100, 80, 60, 85, 95, 80, 60, 35, 20, 12, 8, 5, 3, 2]
DEMO_SCRIPT = """\
# Demo script of the built-in simulator: edit it under Admin → Queues.
hotprompt outage_notice
menu choose_language timeout=4:
    1:
        set language=en
    2:
        set language=de
    timeout:
        set language=en
collect customer_number prompt=enter_customer_number digits=6 timeout=8
lookup customer
when waiting >= 4:
    play all_agents_busy
    voicemail to=service-desk@demo.example max=30
survey overall_satisfaction agent_helpfulness
queue
while waiting every=30:
    announce position ewt
    when wait > 240:
        offer_callback prompt=callback_offer
"""


@dataclass
class AcdSetup:
    """Everything the bridge starts with."""

    engine: AcdEngine
    scripts: dict[str, Script] = field(default_factory=dict)
    dialled_to_queue: dict[str, str] = field(default_factory=dict)
    agent_names: dict[str, str] = field(default_factory=dict)
    agent_tenants: dict[str, int] = field(default_factory=dict)
    queue_tenants: dict[str, int] = field(default_factory=dict)
    traffic: list[SimTraffic] = field(default_factory=list)
    bots: set[str] = field(default_factory=set)
    demo: bool = False
    problems: list[str] = field(default_factory=list)


def human_agent_id(user_id: int) -> str:
    """The engine's id of a person."""
    return f"u{user_id}"


def load_setup(simulator: bool) -> AcdSetup:
    """Read queues, scripts and agents (sync; run through Database.call)."""
    from appliance.models.acd import AcdQueue, AgentPhone, QueueScriptVersion
    from appliance.models.org import UserSkill

    setup = AcdSetup(AcdEngine())
    for row in AcdQueue.select().where(AcdQueue.active == True):  # noqa: E712 (peewee expression)
        try:
            skills = {k: int(v) for k, v in json.loads(row.skills or "{}").items()}
            setup.engine.add_queue(QueueConfig(row.key, name=row.name, strategy=Strategy(row.strategy),
                                               skills=skills, sl_target_s=row.sl_target_s, sl_goal=row.sl_goal,
                                               wrap_up_s=row.wrap_up_s, offer_timeout_s=row.offer_timeout_s,
                                               wrap_up_codes_required=row.wrap_up_required,
                                               calendar=calendar_from_json(row.calendar)))
        except (ValueError, TypeError, AcdConfigError) as exc:
            setup.problems.append(f"queue {row.key}: {exc}")
            continue
        setup.queue_tenants[row.key] = row.tenant_id
        for number in filter(None, (n.strip() for n in row.dialled_numbers.split(","))):
            setup.dialled_to_queue[number] = row.key
        active = (QueueScriptVersion.select().where((QueueScriptVersion.queue == row)
                                                    & (QueueScriptVersion.active == True))  # noqa: E712
                  .order_by(QueueScriptVersion.version.desc()).first())
        if active is not None:
            try:
                setup.scripts[row.key] = parse(active.text)
            except ScriptError as exc:  # saved valid once; a later parser change must not stop the ACD
                setup.problems.append(f"queue {row.key} script v{active.version}: {exc}")
    for phone in AgentPhone.select():
        agent_id = human_agent_id(phone.user_id)
        skills = {us.skill.name: us.level for us in UserSkill.select().where(UserSkill.user == phone.user_id)}
        setup.engine.add_agent(Agent(agent_id, extension=phone.extension, name=phone.user.display_name
                                     or phone.user.username, skills=skills, wrap_up_s=phone.wrap_up_s))
        setup.agent_names[agent_id] = phone.user.display_name or phone.user.username
        setup.agent_tenants[agent_id] = phone.tenant_id
    if simulator and not setup.engine.queues():
        _demo(setup)
    return setup


def _demo(setup: AcdSetup) -> None:
    """Two queues and simulated agents, clearly named, so `make run` is alive with no configuration."""
    setup.demo = True
    engine = setup.engine
    engine.add_queue(QueueConfig("support", name="Support (demo)", sl_target_s=20, wrap_up_s=15))
    engine.add_queue(QueueConfig("sales", name="Sales (demo)", sl_target_s=30, wrap_up_s=10))
    setup.scripts["support"] = parse(DEMO_SCRIPT)
    setup.dialled_to_queue.update({"+4940111000": "support", "+4940111222": "sales"})
    pool = [f"+49401234{n:03d}" for n in range(200)]
    setup.traffic = [
        SimTraffic("support", "+4940111000", DEMO_HOURLY, handle_mean_s=150, patience_mean_s=200, caller_pool=pool),
        SimTraffic("sales", "+4940111222", [h / 3 for h in DEMO_HOURLY], handle_mean_s=240, patience_mean_s=150,
                   caller_pool=pool),
    ]
    for i in range(1, DEMO_BOTS + 1):
        agent_id = f"sim{i}"
        engine.add_agent(Agent(agent_id, extension=str(900 + i), name=f"Simulated agent {i}",
                               languages=frozenset({"en", "de"})))
        setup.agent_names[agent_id] = f"Simulated agent {i}"
        setup.bots.add(agent_id)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def calendar_from_json(text: str) -> OpeningCalendar | None:
    """A queue calendar (B9) from its stored JSON; empty means always open. Raises ValueError naming the field.

    {"timezone": "Europe/Stockholm", "hours": {"mon": "08:00-17:00", …, "sat": ""},
     "holidays": ["2026-12-24"], "exceptions": {"2026-12-23": "08:00-12:00"}}
    """
    if not text or not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"calendar: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("calendar: must be an object")
    unknown = set(data) - {"timezone", "hours", "holidays", "exceptions"}
    if unknown:
        raise ValueError(f"calendar: unknown field {sorted(unknown)[0]!r}")
    hours = data.get("hours") or {}
    if not isinstance(hours, dict) or set(hours) - set(WEEKDAYS):
        raise ValueError(f"calendar.hours: keys must be {', '.join(WEEKDAYS)}")
    try:
        weekly = {WEEKDAYS.index(day): parse_hours(spec) if spec else [] for day, spec in hours.items()}
        holidays = [datetime.date.fromisoformat(d) for d in data.get("holidays") or []]
        exceptions = {datetime.date.fromisoformat(d): (parse_hours(spec) if spec else [])
                      for d, spec in (data.get("exceptions") or {}).items()}
    except (ValueError, TypeError, AcdConfigError) as exc:
        raise ValueError(f"calendar: {exc}") from None
    return OpeningCalendar(data.get("timezone") or "UTC", weekly, holidays, exceptions)
