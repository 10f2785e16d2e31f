"""Running the host's tools (ip, ping, systemctl, journalctl) for the console, with a dry-run mode.

Everything that changes the host goes through `SystemRunner.do`, so dry-run mode (config
`console.dry_run`) prints the exact commands and file contents instead, and tests can read them.
Read-only queries (`query`) always run: showing the network changes nothing.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

COMMAND_TIMEOUT_S = 30.0
OUTPUT_LINES_MAX = 200


@dataclass(frozen=True)
class Step:
    """One change to the host: a command (argv), or a file to write (path + content)."""

    argv: tuple[str, ...] = ()
    path: str = ""
    content: str = ""

    def describe(self) -> str:
        """The step as a person would type it."""
        if self.argv:
            return shlex.join(self.argv)
        return f"write {self.path}"


@dataclass
class StepResult:
    """Whether a step worked, and the lines to show."""

    ok: bool
    lines: list[str] = field(default_factory=list)


class SystemRunner:
    """Runs steps for real, or prints them in dry-run mode."""

    def __init__(self, dry_run: bool = False) -> None:
        self.dry_run = dry_run

    def do(self, step: Step, timeout: float = COMMAND_TIMEOUT_S) -> StepResult:
        """Carry out one change (or, in dry-run mode, say what it would be)."""
        if self.dry_run:
            lines = [f"dry run: would run: {step.describe()}" if step.argv else f"dry run: would write {step.path}:"]
            lines += [f"    {ln}" for ln in step.content.splitlines()]
            return StepResult(True, lines)
        if step.argv:
            return self.run(step.argv, timeout)
        try:
            path = Path(step.path)
            tmp = path.with_name(f".{path.name}.console.tmp")
            tmp.write_text(step.content, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            return StepResult(False, [f"could not write {step.path}: {exc.strerror or exc}"])
        return StepResult(True, [f"wrote {step.path}"])

    def run(self, argv: tuple[str, ...] | list[str], timeout: float = COMMAND_TIMEOUT_S) -> StepResult:
        """Run a command now (also in dry-run mode: use `do` for changes); output and exit status."""
        if not shutil.which(argv[0]):
            return StepResult(False, [f"not available: {argv[0]} is not installed"])
        try:
            proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                                  errors="replace", stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return StepResult(False, [f"{argv[0]}: no answer within {timeout:.0f} s"])
        except OSError as exc:
            return StepResult(False, [f"{argv[0]}: {exc.strerror or exc}"])
        lines = (proc.stdout + proc.stderr).splitlines()[-OUTPUT_LINES_MAX:]
        if proc.returncode != 0:
            lines.append(f"{shlex.join(argv)}: exit status {proc.returncode}")
        return StepResult(proc.returncode == 0, lines)

    def query(self, argv: tuple[str, ...]) -> list[str]:
        """Output lines of a read-only command; empty when it is missing or fails."""
        result = self.run(argv, timeout=10)
        return ["  " + ln for ln in result.lines] if result.ok else []


def under_systemd() -> bool:
    """True when systemd is the init system (then systemctl and journalctl mean something)."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def wipe_directory(root: Path) -> int:
    """Remove everything inside `root` (the directory itself stays: systemd may own it); count removed."""
    count = 0
    for entry in list(root.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        count += 1
    return count
