"""The prompt catalogue beyond upload (B10): versions per prompt and language, activation now, in a time window
or by the queue's calendar, which script steps use a prompt, and deletion only of unused prompts.

A prompt belongs to a tenant or, without one, is shared by all; a tenant's people see their own and the shared
ones and change only their own (shared ones are the system admin's).
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable, Mapping

from appliance.domain.acd.prompt_activation import RULE_KINDS, Choice, Rule, choose_version
from appliance.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from appliance.domain.queue_script import Script, ScriptError, parse
from appliance.domain.queue_script.usage import prompt_uses
from appliance.models.access.scope import Scope
from appliance.models.acd import AcdQueue, Prompt, QueueScriptVersion
from appliance.models.acd_media import HotPrompt, PromptRule, PromptVersion
from appliance.models.auth import utcnow

LEAD_ROLES = frozenset({"team_lead", "supervisor", "admin"})
MAX_RULES = 50


def _require_lead(scope: Scope) -> None:
    if scope.actor.role not in LEAD_ROLES:
        raise Forbidden("prompts are managed by team leads, supervisors and admins")


def visible(scope: Scope, prompt_id: int) -> Prompt:
    """A prompt of the actor's tenant or a shared one; NotFound for another tenant's, as for a missing one."""
    _require_lead(scope)
    row = Prompt.get_or_none(Prompt.id == prompt_id)
    tenant = scope.actor.tenant_id
    if row is None or (tenant is not None and row.tenant_id not in (None, tenant)):
        raise NotFound(f"no prompt {prompt_id}")
    return row


def _writable(scope: Scope, prompt_id: int) -> Prompt:
    row = visible(scope, prompt_id)
    if row.tenant_id is None and not scope.actor.system_admin:
        raise Forbidden("shared prompts are changed by the system admin")
    return row


def _version(row: Prompt, version: Any) -> PromptVersion:
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationError({"version": "must be a version number"})
    found = PromptVersion.get_or_none((PromptVersion.prompt == row.id) & (PromptVersion.version == version))
    if found is None:
        raise ValidationError({"version": f"prompt {row.name} has no version {version}"})
    return found


def add_version(row: Prompt, digest: str, content_type: str, duration: float | None, author_id: int | None,
                activate: bool) -> PromptVersion:
    """Store an upload as the prompt's next version; `activate` makes it the one that plays (sync).

    Without `activate` nothing changes for callers, even for a brand-new prompt: it has no active version
    (and so plays nothing) until one is activated or a rule picks one."""
    last = (PromptVersion.select(PromptVersion.version).where(PromptVersion.prompt == row.id)
            .order_by(PromptVersion.version.desc()).first())
    pv = PromptVersion.create(prompt=row.id, version=(last.version if last else 0) + 1, digest=digest,
                              content_type=content_type, duration_s=duration, author_id=author_id)
    if activate:
        _make_active(row, pv)
    return pv


def _make_active(row: Prompt, pv: PromptVersion) -> None:
    # The prompt row keeps the active audio too, so everything that reads `Prompt.digest` plays the active one.
    Prompt.update(active_version=pv.version, digest=pv.digest, content_type=pv.content_type,
                  duration_s=pv.duration_s).where(Prompt.id == row.id).execute()


def _rules(row: Prompt) -> list[PromptRule]:
    return list(PromptRule.select().where(PromptRule.prompt == row.id).order_by(PromptRule.id))


def _domain_rules(rows: Iterable[PromptRule]) -> list[Rule]:
    return [Rule(r.version, r.kind, r.starts_at, r.ends_at) for r in rows]


def _iso(at: datetime.datetime | None) -> str | None:
    return at.isoformat() + "Z" if at else None


def scripts_for(tenant_id: int | None) -> list[tuple[str, int, Script]]:
    """(queue key, version, script) of the live and the newest saved script of each queue a prompt of this
    tenant can reach (a shared prompt: every tenant's queues)."""
    query = AcdQueue.select()
    if tenant_id is not None:
        query = query.where(AcdQueue.tenant == tenant_id)
    out = []
    for queue in query:
        versions = QueueScriptVersion.select().where(QueueScriptVersion.queue == queue)
        wanted = {v.version: v for v in versions.where(QueueScriptVersion.active == True)}  # noqa: E712
        newest = versions.order_by(QueueScriptVersion.version.desc()).first()
        if newest is not None:
            wanted.setdefault(newest.version, newest)
        for number, v in sorted(wanted.items()):
            try:
                out.append((queue.key, number, parse(v.text)))
            except ScriptError:
                continue  # an old version the parser no longer takes uses nothing that can play
    return out


def uses_of(row: Prompt, extra: Mapping[str, Script] | None = None) -> list[dict[str, Any]]:
    """Which script steps play this prompt: live and newest versions, plus running scripts not in the database
    (the simulator's demo queues)."""
    uses = []
    for key, version, script in scripts_for(row.tenant_id):
        uses += [{"queue": key, "version": version, "line": u.line, "statement": u.statement}
                 for u in prompt_uses(script, row.name)]
    for key, script in (extra or {}).items():
        uses += [{"queue": key, "version": None, "line": u.line, "statement": u.statement}
                 for u in prompt_uses(script, row.name)]
    return uses


def detail(scope: Scope, prompt_id: int, extra_scripts: Mapping[str, Script] | None = None) -> dict[str, Any]:
    """A prompt with its versions, rules, the version that plays now (calendar aside) and its uses."""
    row = visible(scope, prompt_id)
    rules = _rules(row)
    now = utcnow()
    choice = choose_version(row.active_version, _domain_rules(rules), now)
    return {"id": row.id, "name": row.name, "language": row.language, "shared": row.tenant_id is None,
            "active_version": row.active_version,
            "now": {"version": choice.version, "reason": choice.reason},
            "versions": [{"version": v.version, "content_type": v.content_type, "duration_s": v.duration_s,
                          "created_at": _iso(v.created_at), "active": v.version == row.active_version,
                          "audio_url": f"/api/v1/acd/prompts/{row.id}/versions/{v.version}/audio"}
                         for v in PromptVersion.select().where(PromptVersion.prompt == row.id)
                         .order_by(PromptVersion.version.desc())],
            "rules": [{"id": r.id, "version": r.version, "kind": r.kind, "starts_at": _iso(r.starts_at),
                       "ends_at": _iso(r.ends_at)} for r in rules],
            "uses": uses_of(row, extra_scripts)}


def activate(scope: Scope, prompt_id: int, body: Any) -> dict[str, Any]:
    """Make a version the active one now."""
    row = _writable(scope, prompt_id)
    if not isinstance(body, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    pv = _version(row, body.get("version"))
    _make_active(row, pv)
    scope.audit("prompt.activate", row, detail={"version": pv.version})
    return {"id": row.id, "active_version": pv.version}


def _when(body: Mapping[str, Any], name: str) -> datetime.datetime | None:
    raw = body.get(name)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise ValidationError({name: "must be an ISO 8601 time such as 2026-12-24T00:00:00Z"})
    try:
        at = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError({name: "must be an ISO 8601 time such as 2026-12-24T00:00:00Z"}) from None
    if at.tzinfo is not None:
        at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return at


def add_rule(scope: Scope, prompt_id: int, body: Any) -> dict[str, Any]:
    """Play a version in a time window (`scheduled`), on holidays or while the queue is closed."""
    row = _writable(scope, prompt_id)
    if not isinstance(body, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    kind = body.get("kind")
    if kind not in RULE_KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(RULE_KINDS)}"})
    pv = _version(row, body.get("version"))
    starts, ends = _when(body, "starts_at"), _when(body, "ends_at")
    if kind != "scheduled" and (starts or ends):
        raise ValidationError({"starts_at": "only a scheduled rule has a time window"})
    try:
        Rule(pv.version, kind, starts, ends)
    except ValueError as exc:
        raise ValidationError({"ends_at" if "ends_at must" in str(exc) else "starts_at": str(exc)}) from None
    if kind != "scheduled" and PromptRule.select().where((PromptRule.prompt == row.id)
                                                         & (PromptRule.kind == kind)).exists():
        raise Conflict(f"prompt {row.name} already has a {kind} rule; delete it first")
    if PromptRule.select().where(PromptRule.prompt == row.id).count() >= MAX_RULES:
        raise Conflict(f"a prompt has at most {MAX_RULES} rules")
    rule = PromptRule.create(prompt=row.id, version=pv.version, kind=kind, starts_at=starts, ends_at=ends)
    scope.audit("prompt.rule", row, detail={"rule": rule.id, "kind": kind, "version": pv.version})
    return {"id": rule.id, "version": rule.version, "kind": kind, "starts_at": _iso(starts), "ends_at": _iso(ends)}


def delete_rule(scope: Scope, prompt_id: int, rule_id: int) -> None:
    """Remove an activation rule."""
    row = _writable(scope, prompt_id)
    if not PromptRule.delete().where((PromptRule.id == rule_id) & (PromptRule.prompt == row.id)).execute():
        raise NotFound(f"no rule {rule_id} on prompt {row.name}")
    scope.audit("prompt.rule_deleted", row, detail={"rule": rule_id})


def delete_prompt(scope: Scope, prompt_id: int, extra_scripts: Mapping[str, Script] | None = None) -> None:
    """Delete a prompt with all its versions; refused (Conflict naming the steps) while a script uses it."""
    row = _writable(scope, prompt_id)
    uses = uses_of(row, extra_scripts)
    if uses:
        where = "; ".join(f"queue {u['queue']}" + (f" script v{u['version']}" if u["version"] else " (running)")
                          + f" line {u['line']} ({u['statement']})" for u in uses[:10])
        raise Conflict(f"prompt {row.name} is used by {where}: change those scripts first")
    scope.audit("prompt.deleted", row, detail={"name": row.name, "language": row.language})
    row.delete_instance(recursive=True)


def version_of(scope: Scope, prompt_id: int, version: int) -> PromptVersion:
    """One version, for preview."""
    return _version(visible(scope, prompt_id), version)


def effective(scope: Scope, queue_key: str, name: str, language: str | None,
              at: datetime.datetime | None = None) -> tuple[PromptVersion, Choice]:
    """The audio a queue's caller hears for prompt `name` at `at` (now): the language asked for, else the
    queue tenant's English one, else any; then the version by the rules and the queue's calendar."""
    from appliance.pbx.setup import calendar_from_json
    queue = scope.query(AcdQueue).where(AcdQueue.key == queue_key).first()
    if queue is None:
        raise NotFound(f"no queue {queue_key}")
    candidates = list(Prompt.select().where((Prompt.name == name) & ((Prompt.tenant == queue.tenant_id)
                                                                     | Prompt.tenant.is_null())))
    order = [language or "", "en"]
    candidates.sort(key=lambda p: (order.index(p.language) if p.language in order else 2, p.tenant_id is None))
    if not candidates:
        raise NotFound(f"no prompt named {name}")
    row = candidates[0]
    when = at or utcnow()
    stamp = when.replace(tzinfo=datetime.timezone.utc).timestamp()
    try:
        calendar = calendar_from_json(queue.calendar)
    except ValueError:
        calendar = None
    choice = choose_version(row.active_version, _domain_rules(_rules(row)), when,
                            holiday=bool(calendar and calendar.is_holiday(stamp)),
                            closed=bool(calendar and not calendar.is_open(stamp)))
    if choice.version is None:
        raise NotFound(f"prompt {name} has no version to play")
    return _version(row, choice.version), choice


HotKey = tuple[int | None, str, str]  # (tenant or None: every tenant, name, language or "": every caller)


def hot_prompts_on() -> set[HotKey]:
    """(tenant, name, language) of every hot prompt switched on; tenant None: by the system admin, for every
    tenant; language "": for every caller."""
    return {(row.tenant_id, row.name, row.language)
            for row in HotPrompt.select(HotPrompt.tenant, HotPrompt.name, HotPrompt.language)}


def _seen_by(on: set[HotKey], tenant_id: int | None) -> set[tuple[str, str]]:
    return {(name, language) for owner, name, language in on if tenant_id is None or owner in (None, tenant_id)}


def hot_names(on: set[HotKey], tenant_id: int | None) -> list[str]:
    """The names a tenant's people see switched on, in any language: their own and the system-wide ones
    (system admin: all)."""
    return sorted({name for name, _ in _seen_by(on, tenant_id)})


def hot_list(on: set[HotKey], tenant_id: int | None) -> list[dict[str, str]]:
    """The same with the language each is on for ("": every caller), sorted."""
    return [{"name": name, "language": language} for name, language in sorted(_seen_by(on, tenant_id))]


def switch_hot_prompt(name: str, on: bool, tenant_id: int | None, user_id: int | None,
                      language: str = "") -> set[HotKey]:
    """Switch a hot prompt on or off for a tenant's queues (tenant None: for all) and the callers of one language
    ("": every caller), durably; returns all that are on.

    The system admin switching one off switches it off everywhere (they run the box)."""
    mine = HotPrompt.tenant.is_null() if tenant_id is None else HotPrompt.tenant == tenant_id
    this = (HotPrompt.name == name) & (HotPrompt.language == language)
    if on:
        if not HotPrompt.select().where(mine & this).exists():
            HotPrompt.create(tenant=tenant_id, name=name, language=language, by_user_id=user_id,
                             switched_on_at=utcnow())
    elif tenant_id is None:
        HotPrompt.delete().where(this).execute()
    else:
        HotPrompt.delete().where(mine & this).execute()
    return hot_prompts_on()
