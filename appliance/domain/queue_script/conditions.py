"""Conditions of `when` blocks, parsed with Python's own `ast` and limited to a safe subset.

Allowed: names of facts (agents_ready, wait, priority, hour, language, digits, …), numbers, strings,
comparisons (== != < <= > >= in, not in), and/or/not, parentheses, and `time between "08:00" "17:00"`
written as between(time, "08:00", "17:00"). Nothing else parses, so a script can never run code.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any, Mapping

# Facts the bridge supplies for every call; scripts may also test variables they `set` or `collect`.
KNOWN_FACTS = frozenset({
    "agents_logged_in", "agents_ready", "agents_busy", "agents_paused", "waiting", "position", "wait",
    "ewt", "priority", "hour", "minute", "weekday", "time", "open", "closed", "holiday", "language",
    "caller", "dialled", "digits", "customer_known", "customer_number", "skill", "attempts",
})

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b}


class ConditionError(ValueError):
    """A condition that is not in the allowed subset."""


def _hhmm(value: Any) -> int:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ConditionError(f"expected a time like \"08:30\", got {value!r}")
    hours, minutes = int(value[:2]), int(value[3:])
    if not (0 <= hours <= 24 and 0 <= minutes < 60):
        raise ConditionError(f"not a time of day: {value!r}")
    return hours * 60 + minutes


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Expression):
        _check(node.body, names)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        _check(node.operand, names)
    elif isinstance(node, ast.Compare):
        if not all(type(op) in _COMPARE for op in node.ops):
            raise ConditionError("only == != < <= > >= in and not in compare values")
        for part in [node.left, *node.comparators]:
            _check(part, names)
    elif isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        pass
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            _check(element, names)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "between" \
            and len(node.args) == 3 and not node.keywords:
        for arg in node.args[1:]:
            if not isinstance(arg, ast.Constant):
                raise ConditionError("between(time, \"HH:MM\", \"HH:MM\") takes two literal times")
            _hhmm(arg.value)
        _check(node.args[0], names)
    else:
        raise ConditionError(f"not allowed in a condition: {ast.unparse(node) if hasattr(ast, 'unparse') else node}")


@dataclass(frozen=True)
class Condition:
    """A checked condition; `evaluate(facts)` is true or false."""

    source: str
    tree: ast.Expression
    names: frozenset[str]

    def evaluate(self, facts: Mapping[str, Any]) -> bool:
        """Evaluate against the call's facts; unknown variables are None (so `x == 1` is simply false)."""
        try:
            return bool(_eval(self.tree.body, facts))
        except TypeError:
            return False  # e.g. None < 3: an unset variable never satisfies a comparison


def _eval(node: ast.AST, facts: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, facts) for v in node.values)
        return any(_eval(v, facts) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, facts)
        return (not value) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.Compare):
        left = _eval(node.left, facts)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, facts)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        return facts.get(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_eval(e, facts) for e in node.elts)
    if isinstance(node, ast.Call):  # between(time, start, end); end before start spans midnight
        now = _hhmm(_eval(node.args[0], facts))
        start, end = _hhmm(node.args[1].value), _hhmm(node.args[2].value)
        return start <= now < end if start <= end else (now >= start or now < end)
    raise ConditionError("unreachable")


def compile_condition(source: str, extra_names: set[str] | frozenset[str] = frozenset()) -> Condition:
    """Parse and check a condition; raises ConditionError with a readable reason."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"cannot read the condition {source.strip()!r}: {exc.msg}") from None
    names: set[str] = set()
    _check(tree, names)
    unknown = names - KNOWN_FACTS - set(extra_names)
    if unknown:
        raise ConditionError(f"unknown variable {sorted(unknown)[0]!r} (known: {', '.join(sorted(KNOWN_FACTS))}, "
                             "or one the script sets or collects)")
    return Condition(source.strip(), tree, frozenset(names))
