"""Errors of the queue-script language: every problem names its line."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScriptProblem:
    """One problem in a script."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ScriptError(ValueError):
    """A script that cannot be activated; `.problems` lists each with its line."""

    def __init__(self, problems: list[ScriptProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
