"""Finding the real third-party tools that tests talk to.

A missing tool skips the test on a developer's machine but fails it under CI=true,
so CI can never go green by silently skipping the interop tests.
"""
from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, package: str | None = None) -> str:
    """Return the path of `name`, or skip (fail with CI=true) naming the Debian package."""
    path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
    if path:
        return path
    why = f"missing tool {name!r} (Debian package {package or name})"
    if os.environ.get("CI") == "true":
        pytest.fail(why + "; CI=true makes a missing tool a failure")
    pytest.skip(why)


def require_file(path: str, package: str) -> str:
    """Return `path` if a Debian package put it there (a font, a data file), else skip (fail with CI=true)."""
    if os.path.exists(path):
        return path
    why = f"missing file {path} (Debian package {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(why + "; CI=true makes a missing tool a failure")
    pytest.skip(why)
