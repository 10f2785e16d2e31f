"""Running console sessions: on the current terminal (`appliance console`) and on a served tty."""
from __future__ import annotations

import sys
import termios
import threading

from appliance.config import Config
from appliance.console.backend import ConsoleBackend
from appliance.console.menu import console_session
from appliance.console.screen import CLEAR
from appliance.console.terminal import FdTerminal, LineTerminal, make_raw, run_dialogue

GOODBYE = {"done": "Logged out.", "idle": "Idle too long: logged out.", "hang-up": "Line hung up.",
           "stopping": "The console is stopping."}


def run_on_current_terminal(config: Config, baud: int | None = None) -> str:
    """One session on stdin/stdout (raw mode when it is a terminal, at `baud` if given); why it ended."""
    backend = ConsoleBackend(config)
    idle = config.get("console", "idle_timeout_s")
    if not sys.stdin.isatty():
        return run_dialogue(console_session(backend), LineTerminal(), idle)
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        make_raw(fd, baud)
        term = FdTerminal(fd, sys.stdout.fileno())
        reason = run_dialogue(console_session(backend), term, idle)
        term.write(f"\n{GOODBYE.get(reason, reason)}\n")
        return reason
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def serve_tty(config: Config, fd: int, stop: threading.Event, on_session_end=None) -> None:
    """Sessions one after another on a tty until `stop` is set (the console service's worker)."""
    backend = ConsoleBackend(config, in_process=True)
    idle = config.get("console", "idle_timeout_s")
    term = FdTerminal(fd, fd, stop)
    while not stop.is_set():
        reason = run_dialogue(console_session(backend), term, idle)
        if on_session_end:
            on_session_end(reason)
        if reason != "stopping":
            term.write(f"\n{GOODBYE.get(reason, reason)}\n\n")
            term.write(CLEAR)
