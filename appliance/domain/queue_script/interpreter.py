"""Running a queue script for one caller: a pure step machine.

The PBX bridge asks `run.next(result)` for the next action, carries it out (plays a prompt, collects
digits, queues the call …) and passes back what happened (the key pressed, the digits, whether the caller
took the callback). `None` means the script has nothing more to do right now: the caller is queued (then the
bridge calls `run.waiting_round()` every `script.waiting_every_s`), overflowed, or gone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from appliance.domain.queue_script.parser import Script, Statement

MAX_STEPS_PER_CALL = 10000  # a guard: scripts have no loops, but menus retry


@dataclass(frozen=True)
class Play:
    """Play a prompt; a hot prompt only while it is switched on (the bridge knows). `language`: the caller's, when
    known, so the PBX plays that language's recording (the catalogue falls back to the default one)."""

    prompt: str
    hot: bool = False
    language: str | None = None


@dataclass(frozen=True)
class Menu:
    """Play a prompt and wait for one key; result: the key, or None on timeout."""

    prompt: str
    keys: tuple[str, ...]
    timeout_s: float
    language: str | None = None  # the caller's, filled in by the bridge (the PBX picks that recording)


@dataclass(frozen=True)
class Collect:
    """Collect digits into a variable; result: the digits, or None."""

    var: str
    prompt: str | None
    min_digits: int
    max_digits: int
    timeout_s: float
    language: str | None = None


@dataclass(frozen=True)
class Announce:
    """Announce queue position and/or estimated wait."""

    position: bool
    ewt: bool
    position_now: int | None = None  # filled in by the bridge from the live queue (a PBX says the numbers)
    wait_s: float | None = None


@dataclass(frozen=True)
class PlayValue:
    """Say a variable as a number or an amount."""

    what: str
    value: Any
    currency: str | None = None


@dataclass(frozen=True)
class OfferCallback:
    """Offer a callback that keeps the caller's place; result: True if taken."""

    prompt: str | None


@dataclass(frozen=True)
class Voicemail:
    """Record a message and send it by e-mail; the call ends."""

    to: str
    prompt: str | None
    max_s: float


@dataclass(frozen=True)
class Lookup:
    """Look the caller up (customer file or CRM); result: facts to merge (customer_known, …)."""

    source: str


@dataclass(frozen=True)
class SetVar:
    """A variable changed (priority, skill and language matter to routing)."""

    name: str
    value: Any


@dataclass(frozen=True)
class Enqueue:
    """Put the call in the queue (or back in it: requeue)."""

    skill: str | None = None
    priority: int | None = None
    requeue: bool = False


@dataclass(frozen=True)
class Overflow:
    """Send the call to another queue or an external number; the script ends."""

    queue: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class Survey:
    """Play a satisfaction survey after the agent hangs up (B17): one prompt per question, each answered with
    one key 1..scale; result: the answers in question order (None for a question left unanswered)."""

    prompt: str
    questions: tuple[str, ...] = ()
    scale: int = 5

    def answers_from(self, result: Any) -> list[int | None]:
        """The PBX's answer as one digit or None per question (keys off the scale are None); [] if none."""
        if result is None:
            return []
        raw = list(result) if isinstance(result, (list, tuple)) else [result]
        answers: list[int | None] = []
        for value in raw[:len(self.questions) or 1]:
            try:
                digit = int(value)
            except (TypeError, ValueError):
                digit = None
            answers.append(digit if digit is not None and 1 <= digit <= self.scale else None)
        return answers if any(a is not None for a in answers) else []


@dataclass(frozen=True)
class Hangup:
    """End the call."""


Action = Play | Menu | Collect | Announce | PlayValue | OfferCallback | Voicemail | Lookup | SetVar | Enqueue | \
    Overflow | Survey | Hangup


@dataclass
class _Frame:
    statements: list[Statement]
    index: int = 0


@dataclass
class ScriptRun:
    """One caller's way through a script. `facts` are the bridge's live view (agents_ready, wait, …)."""

    script: Script
    facts: dict[str, Any] = field(default_factory=dict)
    queued: bool = False
    finished: bool = False
    trace: list[int] = field(default_factory=list)  # lines executed, for the UI's "why"

    def __post_init__(self) -> None:
        self._stack: list[_Frame] = [_Frame(self.script.arrival)]
        self._awaiting: tuple[Statement, int] | None = None  # (menu statement, tries) waiting for a key
        self._awaiting_kind: str | None = None
        self._steps = 0

    def update(self, facts: Mapping[str, Any]) -> None:
        """Refresh facts (queue state, wait time, clock) before asking for the next action."""
        self.facts.update(facts)

    def waiting_round(self) -> None:
        """Start one pass of the `while waiting` block (the bridge calls this every waiting_every_s)."""
        if self.queued and not self.finished and not self._stack and self.script.waiting:
            self._stack.append(_Frame(self.script.waiting))

    def next(self, result: Any = None) -> Action | None:
        """The next action, given the result of the previous one; None when there is nothing to do now."""
        if self._awaiting_kind is not None:
            pending = self._resume(result)
            if pending is not None:
                return pending
        while self._stack and not self.finished:
            self._steps += 1
            if self._steps > MAX_STEPS_PER_CALL:
                self.finished = True
                return Hangup()
            frame = self._stack[-1]
            if frame.index >= len(frame.statements):
                self._stack.pop()
                continue
            st = frame.statements[frame.index]
            frame.index += 1
            self.trace.append(st.line)
            action = self._execute(st)
            if action is not None:
                return action
        return None

    # --- statements -----------------------------------------------------------------------------
    def _execute(self, st: Statement) -> Action | None:
        a = st.args
        kind = st.kind
        if kind == "play":
            return Play(a["prompt"])
        if kind == "hotprompt":
            return Play(a["prompt"], hot=True)
        if kind == "when":
            branch = st.body if st.condition and st.condition.evaluate(self.facts) else st.else_body
            if branch:
                self._stack.append(_Frame(branch))
            return None
        if kind == "menu":
            self._awaiting, self._awaiting_kind = (st, 0), "menu"
            return self._menu_action(st)
        if kind == "collect":
            self._awaiting, self._awaiting_kind = (st, 0), "collect"
            return Collect(a["var"], a["prompt"], a["min"], a["max"], a["timeout"])
        if kind == "announce":
            return Announce(a["position"], a["ewt"])
        if kind == "say":
            return PlayValue(a["what"], self.facts.get(a["var"]), a.get("currency"))
        if kind == "offer_callback":
            self._awaiting, self._awaiting_kind = (st, 0), "callback"
            return OfferCallback(a["prompt"])
        if kind == "voicemail":
            self._end()
            return Voicemail(a["to"], a["prompt"], a["max"])
        if kind == "lookup":
            self._awaiting, self._awaiting_kind = (st, 0), "lookup"
            return Lookup(a["source"])
        if kind == "set":
            self.facts[a["name"]] = a["value"]
            return SetVar(a["name"], a["value"])
        if kind in ("queue", "requeue"):
            self.queued = True
            if kind == "queue" and "priority" in a:
                self.facts["priority"] = a["priority"]
            return Enqueue(a.get("skill"), a.get("priority"), requeue=kind == "requeue")
        if kind == "overflow":
            self._end()
            return Overflow(a.get("queue"), a.get("number"))
        if kind == "survey":
            self.facts["survey_prompt"] = a["prompt"]
            return Survey(a["prompt"], a["questions"], a["scale"])
        if kind == "hangup":
            self._end()
            return Hangup()
        raise AssertionError(f"statement kind {kind!r} reached the interpreter")  # the parser admits no other

    def _menu_action(self, st: Statement) -> Menu:
        keys = tuple(k for k in st.options if k not in ("timeout", "invalid"))
        return Menu(st.args["prompt"], keys, st.args["timeout"])

    def _resume(self, result: Any) -> Action | None:
        st, tries = self._awaiting
        kind, self._awaiting_kind, self._awaiting = self._awaiting_kind, None, None
        if kind == "menu":
            key = str(result) if result is not None else None
            if key is not None and key in st.options:
                self.facts["menu_choice"] = key
                self._stack.append(_Frame(st.options[key]))
                return None
            fallback = "timeout" if key is None else "invalid"
            if tries < st.args["retries"]:
                self._awaiting, self._awaiting_kind = (st, tries + 1), "menu"
                return self._menu_action(st)
            branch = st.options.get(fallback) or st.options.get("timeout") or st.options.get("invalid")
            if branch:
                self._stack.append(_Frame(branch))
            return None
        if kind == "collect":
            digits = str(result) if result is not None else ""
            ok = digits.isdigit() and st.args["min"] <= len(digits) <= st.args["max"]
            self.facts[st.args["var"]] = digits if ok else None
            if ok:
                self.facts["digits"] = digits
            return None
        if kind == "callback":
            self.facts["callback_taken"] = bool(result)
            if result:
                self._end()
            return None
        if kind == "lookup":
            if isinstance(result, Mapping):
                self.facts.update(result)
            return None
        return None

    def _end(self) -> None:
        self.finished = True
        self._stack.clear()
