"""Spam score: SpamAssassin's `spamc` when configured, plus our own rules. Spam is filed, never deleted."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

from appliance.mail.parse import ParsedMail

SPAMC_TIMEOUT_S = 10.0
_SPAMC_RESULT = re.compile(rb"^\s*(-?\d+(?:\.\d+)?)\s*/\s*(-?\d+(?:\.\d+)?)\s*$")
RISKY_EXTENSIONS = (".exe", ".scr", ".js", ".vbs", ".bat", ".cmd", ".com", ".pif", ".jar", ".hta")


@dataclass
class SpamVerdict:
    """A score and the rules that made it."""

    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    spamc_status: str = "not configured"


def rule_score(mail: ParsedMail) -> SpamVerdict:
    """Our own rules: cheap signs of junk that need no outside filter."""
    v = SpamVerdict()

    def add(points: float, why: str) -> None:
        v.score += points
        v.reasons.append(f"{why} (+{points:g})")

    h = mail.headers
    if h.get("x-spam-flag", "").strip().upper() == "YES":
        add(5.0, "upstream filter said X-Spam-Flag: YES")
    if not mail.from_addr:
        add(2.0, "no sender address")
    if not mail.message_id:
        add(1.0, "no Message-ID")
    if not mail.date:
        add(0.5, "no Date")
    if any(a.filename.lower().endswith(RISKY_EXTENSIONS) for a in mail.attachments):
        add(4.0, "executable attachment")
    if mail.html and not mail.text and len(mail.html) > 200 and mail.html.lower().count("<a ") > 20:
        add(1.5, "HTML-only with many links")
    subject = mail.subject
    if subject and len(subject) > 10 and subject.upper() == subject and any(c.isalpha() for c in subject):
        add(1.0, "subject in capitals")
    return v


def spamc_available(path: str) -> bool:
    """Whether the configured spamc binary can be run."""
    return bool(path) and shutil.which(path) is not None


def spamc_score(raw: bytes, path: str, timeout: float = SPAMC_TIMEOUT_S) -> tuple[float | None, str]:
    """(score, status) from `spamc -c`; score None when the filter is not usable (status says why)."""
    if not path:
        return None, "not configured"
    if not spamc_available(path):
        return None, f"not installed: {path} (Debian package spamc)"
    try:
        done = subprocess.run([path, "-c"], input=raw, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"failed: {exc}"
    match = _SPAMC_RESULT.match(done.stdout.strip().splitlines()[0] if done.stdout.strip() else b"")
    if not match:  # spamc -c prints "0/0" when spamd cannot be reached
        return None, f"no result (exit {done.returncode})"
    return float(match.group(1)), "ok"


def verdict(mail: ParsedMail, raw: bytes, spamc_path: str = "") -> SpamVerdict:
    """Our rules plus spamc's score when it answers."""
    v = rule_score(mail)
    score, status = spamc_score(raw, spamc_path)
    v.spamc_status = status
    if score is not None:
        v.score += score
        v.reasons.append(f"spamc {score:g}")
    return v
