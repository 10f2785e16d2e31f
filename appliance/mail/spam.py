"""Spam score: SpamAssassin's `spamc` when configured, plus our own rules. Spam is filed, never deleted."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

from appliance.mail.parse import ParsedMail

SPAMC_TIMEOUT_S = 10.0
SPAMC_MAX_BYTES = 512_000  # spamc's own default (-s): bigger mails it passes unchecked as "0/0"
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


def spamc_command(path: str, spamd: str = "", timeout: float = SPAMC_TIMEOUT_S) -> list[str]:
    """spamc's argument list: check only (-c), errors as exit codes (-x), spamd at `spamd` if given."""
    # Without -x an unreachable spamd still prints "0/0" and exits 0, which reads as a clean mail.
    cmd = [path, "-c", "-x", "-t", str(max(1, int(timeout))), "-s", str(SPAMC_MAX_BYTES)]
    if spamd.startswith("/"):
        cmd += ["-U", spamd]
    elif spamd:
        host, _, port = spamd.rpartition(":")
        cmd += ["-d", host.strip("[]") or "127.0.0.1", "-p", port]
    return cmd


def spamc_score(raw: bytes, path: str, spamd: str = "", timeout: float = SPAMC_TIMEOUT_S) -> tuple[float | None, str]:
    """(score, status) from `spamc -c`; score None when the filter is not usable (status says why)."""
    if not path:
        return None, "not configured"
    if not spamc_available(path):
        return None, f"not installed: {path} (Debian package spamc)"
    if len(raw) > SPAMC_MAX_BYTES:
        return None, f"skipped: larger than spamc's limit of {SPAMC_MAX_BYTES // 1000} kB"
    try:
        done = subprocess.run(spamc_command(path, spamd, timeout), input=raw, capture_output=True,
                              timeout=timeout + 5, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"failed: {exc}"
    out = done.stdout.strip()
    match = _SPAMC_RESULT.match(out.splitlines()[0] if out else b"")
    # -c -x: exit 0 ham, 1 spam; anything else (69 EX_UNAVAILABLE, 74 EX_IOERR, ...) means no verdict.
    # A real spamd always reports its threshold; "x/0" is spamc speaking for a spamd it never reached.
    if done.returncode not in (0, 1) or not match or float(match.group(2)) == 0:
        where = spamd or "spamc's default address"
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return None, f"spamd at {where} did not answer (spamc exit {done.returncode}) {why[0]}".strip()
    return float(match.group(1)), "ok"


def verdict(mail: ParsedMail, raw: bytes, spamc_path: str = "", spamd: str = "") -> SpamVerdict:
    """Our rules plus spamc's score when it answers."""
    v = rule_score(mail)
    score, status = spamc_score(raw, spamc_path, spamd)
    v.spamc_status = status
    if score is not None:
        v.score += score
        v.reasons.append(f"spamc {score:g}")
    elif spamc_path:
        v.reasons.append(f"spamc: {status}")
    return v
