"""Which statements of a script use a prompt: the catalogue shows it and refuses to delete a used prompt."""
from __future__ import annotations

from dataclasses import dataclass

from appliance.domain.queue_script.parser import Script, Statement, _walk

# Statement options that name a prompt besides the statement's own `prompt`.
_PROMPT_ARGS = ("prompt", "questions")


@dataclass(frozen=True)
class PromptUse:
    """One statement that plays the prompt."""

    line: int
    statement: str


def _names(st: Statement) -> set[str]:
    found: set[str] = set()
    for key in _PROMPT_ARGS:
        value = st.args.get(key)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, tuple):
            found.update(v for v in value if isinstance(v, str))
    return found


def prompt_uses(script: Script, name: str) -> list[PromptUse]:
    """Every statement of `script` that plays the prompt `name`, in line order."""
    uses = [PromptUse(st.line, st.kind) for st in _walk(script.arrival + script.waiting) if name in _names(st)]
    return sorted(set(uses), key=lambda u: u.line)
