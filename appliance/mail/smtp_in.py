"""The inbound SMTP listener (aiosmtpd) for the appliance's service addresses.

RCPT is answered from the service-address directory (550 for others), DATA only after the spool
fsync (250 means "stored durably", RFC 5321 §6.1), and a spool failure is a temporary 451 so the
sending server keeps the mail and retries. Oversize mail gets aiosmtpd's 552 from the SIZE limit.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from aiosmtpd.smtp import SMTP, Envelope, Session

from appliance.intake.errors import SpoolError
from appliance.intake.spool import SpoolEntry

log = logging.getLogger(__name__)

Accept = Callable[[list[SpoolEntry]], Awaitable[str]]
IsServiceAddress = Callable[[str], Awaitable[bool]]
MAX_RECIPIENTS = 100


class InboundHandler:
    """aiosmtpd handler: RCPT checked against service addresses, DATA spooled before 250."""

    def __init__(self, accept: Accept, is_service_address: IsServiceAddress,
                 on_spooled: Callable[[], None] | None = None) -> None:
        self.accept, self.is_service_address = accept, is_service_address
        self.on_spooled = on_spooled or (lambda: None)
        self.accepted = 0
        self.rejected = 0

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        """Accept only configured service addresses."""
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"  # RFC 5321 §4.5.3.1.10
        try:
            known = await self.is_service_address(address.strip().lower())
        except Exception as exc:  # the directory (database) is down: a temporary failure, never a bounce
            log.warning("smtp rcpt lookup failed: %r", exc)
            return "451 4.3.0 Address lookup failed, try again later"
        if not known:
            self.rejected += 1
            return f"550 5.1.1 <{address}>: no such service address here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Spool and fsync; only then 250."""
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        meta: dict[str, Any] = {"rcpt": [r.lower() for r in envelope.rcpt_tos], "mail_from": envelope.mail_from or "",
                                "peer": peer, "helo": session.host_name or ""}
        try:
            name = await self.accept([SpoolEntry(raw, f"smtp:{peer}", meta)])
        except SpoolError as exc:
            log.error("smtp spool failed: %s", exc)
            return "451 4.3.0 Cannot store the message now, try again later"
        self.accepted += 1
        self.on_spooled()
        return f"250 2.0.0 OK queued as {name}"


async def start_listener(handler: InboundHandler, host: str, port: int, tls_context: Any, hostname: str,
                         max_bytes: int) -> asyncio.AbstractServer:
    """Listen in this event loop; STARTTLS offered with the appliance certificate."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(handler, hostname=hostname or None, ident="appliance ESMTP", tls_context=tls_context,
                    require_starttls=False, data_size_limit=max_bytes, enable_SMTPUTF8=True, decode_data=False)
    return await loop.create_server(protocol, host, port)
