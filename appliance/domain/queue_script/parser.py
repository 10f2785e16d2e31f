"""Parser and validator of queue scripts. The language is ours, so the parser is too; quoting and
comments are left to `shlex`, conditions to `ast` (see conditions.py)."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from appliance.domain.queue_script.conditions import Condition, ConditionError, compile_condition
from appliance.domain.queue_script.errors import ScriptError, ScriptProblem

MENU_KEYS = set("0123456789*#") | {"timeout", "invalid"}
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
NUMBER_RE = re.compile(r"^\+?[0-9]{2,20}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LINES = 2000
MAX_DEPTH = 8
MAX_SURVEY_QUESTIONS = 5


@dataclass
class Statement:
    """One statement with its line; blocks hold nested statements."""

    line: int
    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    body: list["Statement"] = field(default_factory=list)
    else_body: list["Statement"] = field(default_factory=list)
    options: dict[str, list["Statement"]] = field(default_factory=dict)
    condition: Condition | None = None


@dataclass
class Script:
    """A validated script: the arrival part, the optional waiting loop, and what it refers to."""

    source: str
    arrival: list[Statement]
    waiting: list[Statement]
    waiting_every_s: float
    prompts: set[str]
    queues: set[str]
    variables: set[str]


@dataclass
class _Line:
    number: int
    indent: int
    words: list[str]
    header: bool  # ends with ':' (a block follows)
    raw: str


def _split(raw: str, number: int, problems: list[ScriptProblem]) -> _Line | None:
    stripped = raw.rstrip()
    if not stripped.strip() or (stripped.strip().startswith("#") and not stripped.strip().startswith("#:")):
        return None
    if "\t" in raw[: len(raw) - len(raw.lstrip())]:
        problems.append(ScriptProblem(number, "indent with spaces, not tabs"))
        return None
    indent = len(stripped) - len(stripped.lstrip(" "))
    text = stripped.strip()
    if text == "#:" or text.startswith(("#: ", "#:#")):
        # A menu's `#` key: not a comment (the lexer below would swallow the whole line and, with it, the
        # branch); whatever follows the ':' may only be a comment.
        rest = text[2:].strip()
        if rest and not rest.startswith("#"):
            problems.append(ScriptProblem(number, "a menu option is one key and ':', its steps go below it"))
            return None
        return _Line(number, indent, ["#"], True, text)
    try:
        lexer = shlex.shlex(stripped.strip(), posix=True, punctuation_chars=False)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words = list(lexer)
    except ValueError as exc:
        problems.append(ScriptProblem(number, f"cannot read this line: {exc}"))
        return None
    if not words:
        return None
    header = words[-1].endswith(":")
    if header:
        words[-1] = words[-1][:-1]
        if not words[-1]:
            words.pop()
        if not words:
            problems.append(ScriptProblem(number, "a ':' with no statement before it"))
            return None
    return _Line(number, indent, words, header, stripped.strip())


def _kv(words: list[str]) -> tuple[list[str], dict[str, str]]:
    plain, pairs = [], {}
    for word in words:
        if "=" in word and not word.startswith("="):
            key, value = word.split("=", 1)
            pairs[key] = value
        else:
            plain.append(word)
    return plain, pairs


class _Parser:
    def __init__(self, text: str, prompts: set[str] | None, queues: set[str] | None) -> None:
        self.problems: list[ScriptProblem] = []
        self.known_prompts, self.known_queues = prompts, queues
        self.used_prompts: set[str] = set()
        self.used_queues: set[str] = set()
        self.variables: set[str] = set()
        self.pending_conditions: list[tuple[Statement, str]] = []
        raw_lines = text.splitlines()
        if len(raw_lines) > MAX_LINES:
            self.problems.append(ScriptProblem(MAX_LINES + 1, f"a script has at most {MAX_LINES} lines"))
            raw_lines = raw_lines[:MAX_LINES]
        self.lines = [ln for i, raw in enumerate(raw_lines, 1) if (ln := _split(raw, i, self.problems))]
        self.pos = 0

    def fail(self, line: int, message: str) -> None:
        self.problems.append(ScriptProblem(line, message))

    def block(self, indent: int, depth: int) -> list[Statement]:
        out: list[Statement] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                break
            if line.indent > indent:
                self.fail(line.number, "unexpected indent")
                self.pos += 1
                continue
            self.pos += 1
            statement = self.statement(line, depth)
            if statement is None:
                continue
            if statement.kind == "else":
                if not out or out[-1].kind != "when" or out[-1].else_body:
                    self.fail(line.number, "'else:' must follow a 'when ...:' block")
                else:
                    out[-1].else_body = statement.body
                continue
            out.append(statement)
        return out

    def child_block(self, line: _Line, depth: int) -> list[Statement]:
        if depth >= MAX_DEPTH:
            self.fail(line.number, f"blocks nest at most {MAX_DEPTH} deep")
        if self.pos >= len(self.lines) or self.lines[self.pos].indent <= line.indent:
            self.fail(line.number, f"'{line.words[0]}' needs an indented block below it")
            return []
        return self.block(self.lines[self.pos].indent, depth + 1)

    def statement(self, line: _Line, depth: int) -> Statement | None:
        kind, rest = line.words[0].lower(), line.words[1:]
        handler = getattr(self, f"st_{kind}", None)
        if handler is None:
            self.fail(line.number, f"unknown statement {line.words[0]!r}")
            if line.header:
                self.child_block(line, depth)
            return None
        takes_block = kind in ("when", "else", "menu", "while")
        if line.header and not takes_block:
            self.fail(line.number, f"'{kind}' does not take a block (remove the ':')")
        if takes_block and not line.header:
            self.fail(line.number, f"'{kind}' needs ':' at the end and a block below")
            return None
        return handler(line, rest, depth)

    # --- statements --------------------------------------------------------------------------
    def _prompt(self, line: _Line, name: str) -> str:
        if not NAME_RE.match(name):
            self.fail(line.number, f"not a prompt name: {name!r}")
        elif self.known_prompts is not None and name not in self.known_prompts:
            self.fail(line.number, f"no prompt named {name!r} in the catalogue")
        self.used_prompts.add(name)
        return name

    def _seconds(self, line: _Line, key: str, value: str, low: float = 0, high: float = 86400) -> float:
        text = value[:-1] if value.endswith("s") else value
        try:
            seconds = float(text)
        except ValueError:
            self.fail(line.number, f"{key} must be a number of seconds, got {value!r}")
            return low
        if not low <= seconds <= high:
            self.fail(line.number, f"{key} must be between {low:g} and {high:g} seconds")
        return seconds

    def _only(self, line: _Line, pairs: dict[str, str], allowed: set[str]) -> None:
        for key in pairs:
            if key not in allowed:
                self.fail(line.number, f"unknown option {key!r} (allowed: {', '.join(sorted(allowed)) or 'none'})")

    def st_play(self, line, rest, depth):
        if len(rest) != 1:
            self.fail(line.number, "play takes one prompt name")
            return None
        return Statement(line.number, "play", {"prompt": self._prompt(line, rest[0])})

    def st_hotprompt(self, line, rest, depth):
        if len(rest) != 1:
            self.fail(line.number, "hotprompt takes one prompt name")
            return None
        return Statement(line.number, "hotprompt", {"prompt": self._prompt(line, rest[0])})

    def st_menu(self, line, rest, depth):
        plain, pairs = _kv(rest)
        self._only(line, pairs, {"timeout", "retries"})
        if len(plain) != 1:
            self.fail(line.number, "menu takes one prompt name: menu PROMPT [timeout=5] [retries=2]:")
            self.child_block(line, depth)
            return None
        st = Statement(line.number, "menu", {
            "prompt": self._prompt(line, plain[0]),
            "timeout": self._seconds(line, "timeout", pairs.get("timeout", "5"), 1, 60),
            "retries": self._int(line, "retries", pairs.get("retries", "2"), 0, 9)})
        if self.pos >= len(self.lines) or self.lines[self.pos].indent <= line.indent:
            self.fail(line.number, "menu needs its options below it (1: … 2: … timeout: …)")
            return st
        option_indent = self.lines[self.pos].indent
        while self.pos < len(self.lines) and self.lines[self.pos].indent == option_indent:
            opt = self.lines[self.pos]
            self.pos += 1
            key = opt.words[0].lower()
            if len(opt.words) != 1 or not opt.header or key not in MENU_KEYS:
                self.fail(opt.number, "a menu option is one key (0-9, *, #, timeout or invalid) and ':'")
                if opt.header:
                    self.child_block(opt, depth + 1)
                continue
            if key in st.options:
                self.fail(opt.number, f"menu key {key!r} is given twice")
            st.options[key] = self.child_block(opt, depth + 1)
        if not any(k in "0123456789*#" for k in st.options):
            self.fail(line.number, "a menu needs at least one key option")
        return st

    def _int(self, line, key, value, low, high) -> int:
        try:
            number = int(value)
        except ValueError:
            self.fail(line.number, f"{key} must be a whole number, got {value!r}")
            return low
        if not low <= number <= high:
            self.fail(line.number, f"{key} must be between {low} and {high}")
        return number

    def st_collect(self, line, rest, depth):
        plain, pairs = _kv(rest)
        self._only(line, pairs, {"prompt", "digits", "timeout"})
        if len(plain) != 1 or not NAME_RE.match(plain[0]):
            self.fail(line.number, "collect takes a variable name: collect customer_number prompt=P digits=4..10")
            return None
        low, high = 1, 20
        if "digits" in pairs:
            match = re.match(r"^(\d+)(?:\.\.(\d+))?$", pairs["digits"])
            if not match:
                self.fail(line.number, "digits must look like 6 or 4..10")
            else:
                low = int(match.group(1))
                high = int(match.group(2) or low)
                if not 1 <= low <= high <= 32:
                    self.fail(line.number, "digits must be between 1 and 32, smallest first")
        self.variables.add(plain[0])
        return Statement(line.number, "collect", {
            "var": plain[0], "prompt": self._prompt(line, pairs["prompt"]) if "prompt" in pairs else None,
            "min": low, "max": high, "timeout": self._seconds(line, "timeout", pairs.get("timeout", "8"), 1, 120)})

    def st_announce(self, line, rest, depth):
        what = [w.lower() for w in rest]
        if not what or any(w not in ("position", "ewt") for w in what):
            self.fail(line.number, "announce takes position, ewt or both")
            return None
        return Statement(line.number, "announce", {"position": "position" in what, "ewt": "ewt" in what})

    def st_say_number(self, line, rest, depth):
        return self._say(line, rest, "number")

    def st_say_amount(self, line, rest, depth):
        return self._say(line, rest, "amount")

    def _say(self, line, rest, what):
        plain, pairs = _kv(rest)
        self._only(line, pairs, {"currency"} if what == "amount" else set())
        if len(plain) != 1 or not NAME_RE.match(plain[0]):
            self.fail(line.number, f"say_{what} takes one variable name")
            return None
        self.pending_conditions.append((None, plain[0]))  # checked once all variables are known
        return Statement(line.number, "say", {"what": what, "var": plain[0], "currency": pairs.get("currency")})

    def st_offer_callback(self, line, rest, depth):
        plain, pairs = _kv(rest)
        self._only(line, pairs, {"prompt"})
        if plain:
            self.fail(line.number, "offer_callback takes only prompt=P")
        return Statement(line.number, "offer_callback",
                         {"prompt": self._prompt(line, pairs["prompt"]) if "prompt" in pairs else None})

    def st_voicemail(self, line, rest, depth):
        plain, pairs = _kv(rest)
        self._only(line, pairs, {"to", "prompt", "max"})
        if plain or "to" not in pairs or not EMAIL_RE.match(pairs["to"]):
            self.fail(line.number, "voicemail needs to=ADDRESS (an e-mail address)")
            return None
        return Statement(line.number, "voicemail", {
            "to": pairs["to"], "prompt": self._prompt(line, pairs["prompt"]) if "prompt" in pairs else None,
            "max": self._seconds(line, "max", pairs.get("max", "120"), 5, 600)})

    def st_lookup(self, line, rest, depth):
        if rest not in (["crm"], ["customer"]):
            self.fail(line.number, "lookup takes crm or customer")
            return None
        self.variables.update({"customer_known", "customer_number"})
        return Statement(line.number, "lookup", {"source": rest[0]})

    def st_set(self, line, rest, depth):
        _, pairs = _kv(rest)
        if len(rest) != 1 or len(pairs) != 1:
            self.fail(line.number, "set takes one NAME=VALUE")
            return None
        name, value = next(iter(pairs.items()))
        parsed: Any = value
        if name == "priority":
            parsed = self._int(line, "priority", value, 0, 9)
        elif name == "language" and not LANGUAGE_RE.match(value):
            self.fail(line.number, f"language must be a code such as sv or en, got {value!r}")
        elif name == "skill" and not NAME_RE.match(value):
            self.fail(line.number, f"not a skill name: {value!r}")
        elif not NAME_RE.match(name):
            self.fail(line.number, f"not a variable name: {name!r}")
        self.variables.add(name)
        return Statement(line.number, "set", {"name": name, "value": parsed})

    def st_overflow(self, line, rest, depth):
        plain, pairs = _kv(rest)
        if plain or len(pairs) != 1 or not ({"queue", "number"} & set(pairs)):
            self.fail(line.number, "overflow takes queue=NAME or number=+4612345")
            return None
        if "queue" in pairs:
            if self.known_queues is not None and pairs["queue"] not in self.known_queues:
                self.fail(line.number, f"no queue named {pairs['queue']!r}")
            self.used_queues.add(pairs["queue"])
        elif not NUMBER_RE.match(pairs["number"]):
            self.fail(line.number, f"not a phone number: {pairs['number']!r}")
        return Statement(line.number, "overflow", dict(pairs))

    def st_queue(self, line, rest, depth):
        plain, pairs = _kv(rest)
        # Matching the previous agent is the queue's strategy (previous_agent with its window), not the script's.
        self._only(line, pairs, {"skill", "priority"})
        if plain:
            self.fail(line.number, "queue takes only options: skill=NAME priority=N")
        args: dict[str, Any] = {}
        if "skill" in pairs:
            args["skill"] = pairs["skill"]
        if "priority" in pairs:
            args["priority"] = self._int(line, "priority", pairs["priority"], 0, 9)
        return Statement(line.number, "queue", args)

    def st_requeue(self, line, rest, depth):
        if rest:
            self.fail(line.number, "requeue takes nothing")
        return Statement(line.number, "requeue")

    def st_survey(self, line, rest, depth):
        plain, pairs = _kv(rest)
        self._only(line, pairs, {"scale"})
        if not 1 <= len(plain) <= MAX_SURVEY_QUESTIONS:
            self.fail(line.number, f"survey takes 1 to {MAX_SURVEY_QUESTIONS} prompt names, one per question "
                                   "(played after the call)")
            return None
        questions = tuple(self._prompt(line, name) for name in plain)
        scale = self._int(line, "scale", pairs.get("scale", "5"), 2, 9)  # one key per answer: 1..scale
        return Statement(line.number, "survey", {"prompt": questions[0], "questions": questions, "scale": scale})

    def st_hangup(self, line, rest, depth):
        if rest:
            self.fail(line.number, "hangup takes nothing")
        return Statement(line.number, "hangup")

    def st_when(self, line, rest, depth):
        source = line.raw[len(line.words[0]):].rstrip().removesuffix(":")
        st = Statement(line.number, "when")
        self.pending_conditions.append((st, source))
        st.body = self.child_block(line, depth)
        return st

    def st_else(self, line, rest, depth):
        if rest:
            self.fail(line.number, "'else:' takes no condition")
        return Statement(line.number, "else", body=self.child_block(line, depth))

    def st_while(self, line, rest, depth):
        plain, pairs = _kv(rest)
        if plain != ["waiting"]:
            self.fail(line.number, "the only loop is 'while waiting every=30:'")
        self._only(line, pairs, {"every"})
        st = Statement(line.number, "while", {"every": self._seconds(line, "every", pairs.get("every", "30"), 5, 3600)})
        if depth:
            self.fail(line.number, "'while waiting' must be at the top level")
        st.body = self.child_block(line, depth)
        return st


def _walk(statements: list[Statement]):
    for st in statements:
        yield st
        yield from _walk(st.body)
        yield from _walk(st.else_body)
        for option in st.options.values():
            yield from _walk(option)


def _voicemail_after_queue(statements: list[Statement], queued: bool, problems: list[ScriptProblem]) -> bool:
    """Flag voicemail steps that can run once the caller is in line; returns whether the caller may be queued
    after these statements (branches of `when` and `menu` are alternatives, so each is followed alone)."""
    for st in statements:
        if st.kind in ("queue", "requeue"):
            queued = True
        elif st.kind == "voicemail" and queued:
            problems.append(ScriptProblem(st.line, "voicemail cannot run once the caller is in line (the queue "
                                                   "would still offer the call): put it before 'queue', or offer "
                                                   "a callback while waiting"))
        elif st.kind in ("when", "menu"):
            branches = [st.body, st.else_body] if st.kind == "when" else list(st.options.values())
            if st.kind == "menu" and not any(k in st.options for k in ("timeout", "invalid")):
                branches.append([])  # no key pressed and no fallback: the script goes on below the menu
            queued = any([_voicemail_after_queue(b, queued, problems) for b in branches]) or queued
    return queued


def parse(text: str, prompts: set[str] | None = None, queues: set[str] | None = None) -> Script:
    """Parse and validate; raises ScriptError listing every problem with its line."""
    p = _Parser(text, prompts, queues)
    top = p.block(p.lines[0].indent if p.lines else 0, 0)
    while p.pos < len(p.lines):  # a line indented less than the first one: report it, read on from there
        stray = p.lines[p.pos]
        p.fail(stray.number, "this line does not line up with the lines above it")
        top += p.block(stray.indent, 0)
    for st, source in p.pending_conditions:
        if st is None:
            if source not in p.variables and source not in ("caller", "dialled", "digits", "customer_number",
                                                           "position", "ewt", "wait"):
                p.fail(0, f"say_number/say_amount of {source!r}, which the script never sets or collects")
            continue
        try:
            st.condition = compile_condition(source, p.variables)
        except ConditionError as exc:
            p.fail(st.line, str(exc))
    arrival: list[Statement] = []
    waiting: list[Statement] = []
    every = 30.0
    queued_at = None
    for st in top:
        if st.kind == "while":
            if queued_at is None:
                p.fail(st.line, "'while waiting' comes after 'queue'")
            if waiting:
                p.fail(st.line, "only one 'while waiting' block")
            waiting, every = st.body, st.args["every"]
        elif waiting:
            p.fail(st.line, "nothing may follow the 'while waiting' block")
        else:
            if st.kind == "queue":
                queued_at = st.line
            arrival.append(st)
    _voicemail_after_queue(waiting, _voicemail_after_queue(arrival, False, p.problems), p.problems)
    for st in _walk(arrival + waiting):
        if st.kind == "while":
            p.fail(st.line, "'while waiting' must be at the top level")
    for st in _walk(waiting):
        if st.kind in ("queue", "menu", "collect"):
            p.fail(st.line, f"'{st.kind}' cannot be used while the caller waits in the queue")
        if st.kind == "overflow":
            p.fail(st.line, "overflow while waiting is set in the queue's overflow rules (wait, size, no agents), "
                            "not in the script")
    if not p.problems and not any(st.kind in ("queue", "overflow", "hangup", "voicemail") for st in _walk(arrival)):
        p.fail(1, "the script never queues, overflows, takes a voicemail or hangs up: callers would be stuck")
    if p.problems:
        raise ScriptError(sorted(p.problems, key=lambda pr: pr.line))
    return Script(text, arrival, waiting, every, p.used_prompts, p.used_queues, p.variables)
