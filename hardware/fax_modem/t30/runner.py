"""Drive a `T30Session` over a link that performs its actions (Class 1 driver, Class 2 emulator)."""
from __future__ import annotations

import logging
from typing import Protocol

from hardware.fax_modem.t30.session import Action, Event, Finish, T30Session

log = logging.getLogger(__name__)


class Link(Protocol):
    """Something that performs session actions and reports what happened."""

    async def execute(self, action: Action) -> Event:
        """Do `action` (send frames, receive a page, ...) and return the resulting event."""


async def run_session(session: T30Session, link: Link, first: Action | None = None) -> Finish:
    """Run `session` to its end over `link`; returns the final `Finish`."""
    action = first if first is not None else session.start()
    while not isinstance(action, Finish):
        log.debug("T.30 %s: %s", session.state.value, action)
        event = await link.execute(action)
        action = session.handle(event)
    return action
