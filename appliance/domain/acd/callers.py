"""B11: routing by caller number: a prefix table (country, area code, mobile range) choosing a queue or skill.

Numbers are brought to E.164 with `phonenumbers`, so "08-123 456", "+46 8 123 456" and "00468123456" all
match the rule written as "08" (Stockholm) for a Swedish site. Prefixes are not whole numbers, so they are
normalised by hand: "+…" as is, "00…" international, "0…" national with the trunk prefix, else national.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import phonenumbers

from appliance.domain.acd.agents import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL
from appliance.domain.acd.calls import Call
from appliance.domain.acd.errors import AcdConfigError

_SEPARATORS = re.compile(r"[\s\-./()]")


@dataclass(slots=True, frozen=True)
class CallerRule:
    """Calls whose number starts with `prefix` go to `queue_id` and/or need a skill or language."""

    prefix: str
    queue_id: str | None = None
    skill: str | None = None
    level: int = 1
    language: str | None = None

    def __post_init__(self) -> None:
        if self.queue_id is None and self.skill is None and self.language is None:
            raise AcdConfigError(f"caller rule {self.prefix!r}: needs a queue_id, a skill or a language")
        if not MIN_SKILL_LEVEL <= self.level <= MAX_SKILL_LEVEL:
            raise AcdConfigError(f"caller rule {self.prefix!r}: level must be 1..10")


@dataclass(slots=True, frozen=True)
class RouteTarget:
    """What a caller rule decided, and which prefix matched (for the decision's explanation)."""

    rule: CallerRule
    matched_prefix: str
    number: str


class CallerRouter:
    """A longest-prefix table over E.164 caller numbers for one home region (e.g. "SE", "CN")."""

    def __init__(self, rules: Iterable[CallerRule], region: str = "SE") -> None:
        self.region = region
        self._country = phonenumbers.country_code_for_region(region)
        if not self._country:
            raise AcdConfigError(f"caller routing: unknown region {region!r}")
        self._rules: dict[str, CallerRule] = {}
        for rule in rules:
            key = self.normalise_prefix(rule.prefix)
            if key in self._rules:
                raise AcdConfigError(f"caller routing: prefix {rule.prefix!r} given twice (as {key})")
            self._rules[key] = rule
        self._lengths = sorted({len(k) for k in self._rules}, reverse=True)

    def normalise_prefix(self, prefix: str) -> str:
        """A rule prefix as the start of an E.164 number ("08" in SE → "+468")."""
        digits = _SEPARATORS.sub("", prefix)
        if digits.startswith("+"):
            body, lead = digits[1:], "+"
        elif digits.startswith("00"):
            body, lead = digits[2:], "+"
        elif digits.startswith("0"):
            body, lead = digits[1:], f"+{self._country}"
        else:
            body, lead = digits, f"+{self._country}"
        if not body.isdigit() and not (body == "" and lead != "+"):
            raise AcdConfigError(f"caller routing: prefix {prefix!r} is not a number prefix")
        return lead + body

    def normalise(self, number: str) -> str | None:
        """The caller number in E.164, or None if it is withheld or not a phone number."""
        if not number:
            return None
        try:
            parsed = phonenumbers.parse(number, self.region)
        except phonenumbers.NumberParseException:
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def resolve(self, number: str) -> RouteTarget | None:
        """The rule with the longest prefix matching the number, if any."""
        e164 = self.normalise(number)
        if e164 is None:
            return None
        for length in self._lengths:
            rule = self._rules.get(e164[:length])
            if rule is not None:
                return RouteTarget(rule, e164[:length], e164)
        return None

    def apply(self, call: Call, default_queue: str) -> tuple[str, RouteTarget | None]:
        """Pick the call's queue and set its extra skill or language from the table."""
        target = self.resolve(call.caller)
        if target is None:
            return default_queue, None
        rule = target.rule
        if rule.skill is not None:
            call.required_skill, call.required_level = rule.skill, rule.level
        if rule.language is not None and call.language is None:
            call.language = rule.language
        return rule.queue_id or default_queue, target
