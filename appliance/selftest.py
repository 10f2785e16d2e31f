"""Step-by-step self-tests (console diagnostics, the admin console's "Test" buttons): one line per step,
`  step          ok     detail (12 ms)` or `  step          FAILED Reason: text`; the first failure ends a test."""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

OK, FAILED, SKIPPED = "ok", "FAILED", "-"
STEP_WIDTH = 14
DETAIL_MAX = 200


class StepFailed(Exception):
    """A step went wrong; the reason is already on its line."""


class StepLog:
    """The lines of one test (a heading, then a line per step)."""

    def __init__(self, heading: str, errors: tuple[type[BaseException], ...]) -> None:
        self.lines = [heading]
        self.errors = errors  # what a failing step may raise; anything else is a bug and propagates

    def line(self, step: str, result: str, detail: str = "") -> None:
        """Add one result line."""
        self.lines.append(f"  {step:<{STEP_WIDTH}}{result:<7}{detail}"[:DETAIL_MAX + 24].rstrip())

    def _ok(self, step: str, text: str, started: float) -> None:
        ms = (time.monotonic() - started) * 1000
        self.line(step, OK, f"{text} ({ms:.0f} ms)" if text else f"({ms:.0f} ms)")

    def _failed(self, step: str, exc: BaseException) -> StepFailed:
        self.line(step, FAILED, f"{type(exc).__name__}: {str(exc) or type(exc).__name__}")
        return StepFailed(step)

    def run(self, step: str, fn: Callable[[], Any], detail: Callable[[Any], str] = lambda _: "") -> Any:
        """Do a blocking step; ok with `detail(result)`, or FAILED and StepFailed."""
        started = time.monotonic()
        try:
            result = fn()
        except self.errors as exc:
            raise self._failed(step, exc) from exc
        self._ok(step, detail(result), started)
        return result

    async def arun(self, step: str, fn: Callable[[], Awaitable[Any]],
                   detail: Callable[[Any], str] = lambda _: "") -> Any:
        """Do an async step, the same way."""
        started = time.monotonic()
        try:
            result = await fn()
        except self.errors as exc:
            raise self._failed(step, exc) from exc
        self._ok(step, detail(result), started)
        return result
