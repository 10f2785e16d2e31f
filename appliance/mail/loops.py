"""Loop and flood protection: when the appliance must not answer automatically (RFC 3834)."""
from __future__ import annotations

import time
from collections import deque
from typing import Iterable

from appliance.mail.parse import ParsedMail

BULK_PRECEDENCE = {"bulk", "list", "junk"}
# Local parts of system senders that never read replies (RFC 3834 §3.1.8, RFC 2142 for postmaster).
SYSTEM_LOCALPARTS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply",
                     "bounce", "bounces", "listserv", "majordomo"}


def auto_reply_block(mail: ParsedMail, own_addresses: Iterable[str], envelope_from: str | None = None) -> str:
    """Why an automatic reply must not go out ("" when it may)."""
    h = mail.headers
    auto = h.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":  # RFC 3834 §5.2: anything but "no" is machine-made
        return f"Auto-Submitted: {auto}"
    precedence = h.get("precedence", "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if "list-id" in h or "list-unsubscribe" in h:
        return "mailing list (List-Id)"
    suppress = h.get("x-auto-response-suppress", "").lower()
    if "all" in suppress or "oof" in suppress or "autoreply" in suppress:
        return f"X-Auto-Response-Suppress: {suppress}"
    if envelope_from == "":  # null reverse-path: a bounce (RFC 5321 §4.5.5)
        return "null envelope sender"
    if not mail.from_addr:
        return "no sender address"
    local = mail.from_addr.split("@", 1)[0]
    if local in SYSTEM_LOCALPARTS or local.startswith("owner-") or local.endswith("-request"):
        return f"system sender {mail.from_addr}"
    if mail.from_addr in {a.lower() for a in own_addresses}:
        return f"our own address {mail.from_addr}"
    return ""


class SenderRateLimiter:
    """At most `limit` mails per sender in a sliding window; over it, a sender is flooding."""

    def __init__(self, limit: int, window_s: float = 3600.0, max_senders: int = 100_000) -> None:
        self.limit, self.window_s, self.max_senders = limit, window_s, max_senders
        self._seen: dict[str, deque[float]] = {}

    def hit(self, sender: str, now: float | None = None) -> bool:
        """Count a mail; True while the sender is within the limit."""
        now = time.monotonic() if now is None else now
        window = self._seen.setdefault(sender, deque())
        while window and now - window[0] > self.window_s:
            window.popleft()
        window.append(now)
        if len(self._seen) > self.max_senders:  # forget idle senders so a spoofing flood cannot grow memory
            for key in [k for k, v in self._seen.items() if not v or now - v[-1] > self.window_s]:
                del self._seen[key]
        return len(window) <= self.limit

    def count(self, sender: str) -> int:
        """Mails counted for a sender in the current window."""
        return len(self._seen.get(sender, ()))
