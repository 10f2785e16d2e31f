"""Trees of teams, mailboxes, profiles and categories: cycles, depth, inherited settings (F2, F4, F5, G4)."""
from __future__ import annotations

from typing import Any, Mapping

MAX_CATEGORY_DEPTH = 10  # G4: "up to 10 levels"


def ancestors(node: int | None, parent_of: Mapping[int, int | None], limit: int = 10000) -> list[int]:
    """The chain of ancestors of `node` (nearest first), stopping at a cycle or after `limit` steps."""
    chain: list[int] = []
    seen: set[int] = set()
    current = parent_of.get(node) if node is not None else None
    while current is not None and current not in seen and len(chain) < limit:
        chain.append(current)
        seen.add(current)
        current = parent_of.get(current)
    return chain


def creates_cycle(node: int, new_parent: int | None, parent_of: Mapping[int, int | None]) -> bool:
    """Whether making `new_parent` the parent of `node` would close a loop."""
    if new_parent is None:
        return False
    if new_parent == node:
        return True
    return node in ancestors(new_parent, parent_of)


def depth_of(parent: int | None, parent_of: Mapping[int, int | None]) -> int:
    """The level a new child of `parent` gets (1 for a root)."""
    return 1 if parent is None else 2 + len(ancestors(parent, parent_of))


def subtree_height(node: int, parent_of: Mapping[int, int | None]) -> int:
    """How many levels `node` and its descendants span (1 for a leaf)."""
    children: dict[int | None, list[int]] = {}
    for child, parent in parent_of.items():
        children.setdefault(parent, []).append(child)
    height, frontier, seen = 0, [node], set()
    while frontier:
        height += 1
        seen.update(frontier)
        frontier = [c for n in frontier for c in children.get(n, []) if c not in seen]
    return height


def inherited_settings(chain: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Settings of a node whose own settings come first and ancestors' follow (F5): nearest wins."""
    merged: dict[str, Any] = {}
    for settings in reversed(chain):
        merged.update(settings)
    return merged
