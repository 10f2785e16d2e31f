"""A queue script's menus, digit entry and position/wait announcements with Asterisk, mixed into `AmiPbx`.

Like the prompts (ami_prompts.py), the caller is redirected into a dialplan context that reports its end with a
channel variable (a VarSet event), then goes back to `acd-wait`; the ACD keeps the call's place meanwhile.
`acd-read,s,1` Read()s digits (the step's prompt, longest length, timeout and terminator come as channel
variables) and reports them as `ACD_DIGITS` (empty: nothing entered); a menu is the same with one key and no
terminator (so `#` can be a choice). `acd-announce,s,1` says `ACD_POSITION` and `ACD_WAIT_MIN` with SayNumber()
and reports `ACD_ANNOUNCED`. `acd-say,s,1` speaks a script variable (`say_number`, `say_amount`) from
`ACD_SAY_KIND`, `ACD_SAY_NUMBER`, `ACD_SAY_CENTS` and `ACD_SAY_CURRENCY` and reports `ACD_SAID`. Retries and invalid
choices stay the script interpreter's (language.md).
"""
from __future__ import annotations

import asyncio
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from hardware.ami import events as ev

from appliance.domain.queue_script import Announce, Collect, Menu, PlayValue
from appliance.pbx.adapter import UnsupportedAction

READ_CONTEXT = "acd-read"
ANNOUNCE_CONTEXT = "acd-announce"
DIGITS_VARIABLE = "ACD_DIGITS"
ANNOUNCED_VARIABLE = "ACD_ANNOUNCED"
SAY_CONTEXT = "acd-say"
SAID_VARIABLE = "ACD_SAID"
IVR_GRACE_S = 60.0  # beyond Read()'s own timeouts: the prompt's length, before we stop waiting regardless


class AmiIvr:
    """Menu, collect and announce over AMI; expects `AmiPbx`'s client, calls, by_uniqueid and `_safely`."""

    def _ivr_waiting(self) -> dict[str, asyncio.Future]:
        return self.__dict__.setdefault("_ivr_futures", {})

    async def read_digits(self, call_id: str, action: Menu | Collect) -> str | None:
        """The caller in acd-read: the digits (a menu: the key) from ACD_DIGITS; None when nothing was entered,
        an offer took the caller away or the caller hung up."""
        if isinstance(action, Menu):
            settings = {"ACD_READ_PROMPT": action.prompt, "ACD_READ_MAX": "1", "ACD_READ_TIMEOUT":
                        _seconds(action.timeout_s), "ACD_READ_TERM": ""}
            wait_s = action.timeout_s + IVR_GRACE_S
        else:
            settings = {"ACD_READ_PROMPT": action.prompt or "", "ACD_READ_MAX": str(action.max_digits),
                        "ACD_READ_TIMEOUT": _seconds(action.timeout_s), "ACD_READ_TERM": "#"}
            wait_s = action.timeout_s * (action.max_digits + 1) + IVR_GRACE_S
        if action.language:  # Read() plays the prompt from that language's sounds, as Playback() does
            settings = {"CHANNEL(language)": action.language, **settings}
        value = await self._ivr_visit(call_id, READ_CONTEXT, settings, wait_s, type(action).__name__.lower())
        return value.strip() or None if value is not None else None

    async def announce(self, call_id: str, action: Announce) -> None:
        """The caller in acd-announce hears their position and/or the estimated wait in minutes, then waits on."""
        position = action.position_now if action.position else None
        wait_min = max(1, math.ceil(action.wait_s / 60)) if action.ewt and action.wait_s is not None else None
        if position is None and wait_min is None:
            raise UnsupportedAction("ami: position/wait not announced: the caller is not waiting in a queue")
        settings = {"ACD_POSITION": str(position or ""), "ACD_WAIT_MIN": str(wait_min or "")}
        await self._ivr_visit(call_id, ANNOUNCE_CONTEXT, settings, IVR_GRACE_S, "announcement")

    async def say_value(self, call_id: str, action: PlayValue) -> None:
        """The caller in acd-say hears a script variable as a number, a digit string or an amount, then waits on."""
        settings = say_settings(action)
        if settings is None:
            raise UnsupportedAction(f"ami: say_{action.what} skipped: {action.value!r} is not a number")
        await self._ivr_visit(call_id, SAY_CONTEXT, settings, IVR_GRACE_S, f"say_{action.what}")

    async def _ivr_visit(self, call_id: str, context: str, settings: dict[str, str], wait_s: float,
                         what: str, exten: str = "s") -> str | None:
        """Set the channel variables, redirect the waiting caller to `context,exten,1` and wait for the visit's
        report (a VarSet the dialplan sets at its end); None when it timed out, an offer or a hang-up ended it."""
        call = self.calls.get(call_id)  # type: ignore[attr-defined]
        if call is None:
            return None
        if call.ringing or call.answered_by:
            raise UnsupportedAction(f"ami: {what} skipped: the caller is with an agent")
        waiting = self._ivr_waiting()[call_id] = asyncio.get_running_loop().create_future()
        try:
            for name, value in settings.items():
                await self._safely("setvar", self.client.send_action(  # type: ignore[attr-defined]
                    "Setvar", {"Channel": call.channel, "Variable": name, "Value": value}))
            sent = await self._safely(what, self.client.redirect(call.channel, context, exten, 1))  # type: ignore
            if sent is None:
                raise UnsupportedAction(f"ami: {what} skipped (the PBX refused, see the log)")
            try:
                return await asyncio.wait_for(waiting, wait_s)
            except asyncio.TimeoutError:
                return None
        finally:
            self._ivr_waiting().pop(call_id, None)

    def ivr_event(self, event: ev.VarSet) -> None:
        """ACD_PLAYED, ACD_DIGITS, ACD_ANNOUNCED or ACD_SAID from its context: that visit is over."""
        call_id = self.by_uniqueid.get(event.channel.uniqueid)  # type: ignore[attr-defined]
        self.stop_waiting_for_ivr(call_id, event.value)

    def stop_waiting_for_ivr(self, call_id: str | None, value: str | None = None) -> None:
        """The visit is over for this call (reported, offered away, or the caller left: then None)."""
        waiting = self._ivr_waiting().get(call_id) if call_id else None
        if waiting is not None and not waiting.done():
            waiting.set_result(value)


def say_settings(action: PlayValue) -> dict[str, str] | None:
    """The acd-say channel variables for a value, or None when it is no number.

    A number with a leading zero (a customer or contract number) is said digit by digit, since SayNumber() would
    drop the zero; an amount is whole units and cents (SayNumber() knows no decimals), the currency's sound file
    named by its lower-case code (`acd/currency-sek`).
    """
    text = str(action.value).strip() if action.value is not None else ""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if action.what == "amount":
        cents_total = int((abs(number) * 100).to_integral_value())
        units = cents_total // 100 * (-1 if number < 0 else 1)
        return {"ACD_SAY_KIND": "amount", "ACD_SAY_NUMBER": str(units), "ACD_SAY_CENTS": str(cents_total % 100),
                "ACD_SAY_CURRENCY": (action.currency or "").lower()}
    if text.isdigit() and len(text) > 1 and text.startswith("0"):
        return {"ACD_SAY_KIND": "digits", "ACD_SAY_NUMBER": text, "ACD_SAY_CENTS": "", "ACD_SAY_CURRENCY": ""}
    if number != number.to_integral_value():
        return None  # a number with decimals is said with say_amount; SayNumber() would say the integer only
    return {"ACD_SAY_KIND": "number", "ACD_SAY_NUMBER": str(int(number)), "ACD_SAY_CENTS": "",
            "ACD_SAY_CURRENCY": ""}


def _seconds(timeout_s: float) -> str:
    # Read() takes its timeout in seconds and accepts fractions (app_read.c parses it as a double).
    return f"{timeout_s:g}"
