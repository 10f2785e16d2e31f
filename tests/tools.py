"""Finding the real third-party tools that tests talk to.

A missing tool skips the test on a developer's machine but fails it under CI=true,
so CI can never go green by silently skipping the interop tests.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest


def require_tool(name: str, package: str | None = None) -> str:
    """Return the path of `name`, or skip (fail with CI=true) naming the Debian package."""
    path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
    if path:
        return path
    _missing(f"missing tool {name!r} (Debian package {package or name})")


def require_file(path: str, package: str) -> str:
    """Return `path` if a Debian package put it there (a font, a data file), else skip (fail with CI=true)."""
    if os.path.exists(path):
        return path
    _missing(f"missing file {path} (Debian package {package})")


def _missing(why: str) -> None:
    """Fail under CI=true; skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(why + "; CI=true makes a missing tool a failure")
    # Deliberate skip, never reached in CI: a developer without the Debian package can still run the rest,
    # and `make test` (scripts/test-deps.sh) names or installs what is missing before pytest starts.
    pytest.skip(why)


def wait_until_answering(name: str, proc: subprocess.Popen, answers: Callable[[], bool], log: Path,
                         timeout: float, every: float = 0.1) -> None:
    """Wait until a server the test started answers; if it exits or stays silent, raise with its log's tail."""
    deadline = time.monotonic() + timeout
    while not answers():
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{name} exited with {proc.returncode}: {tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer in time")
        time.sleep(every)


def stop_server(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM a server the test started, then SIGKILL it if it is still there after `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
