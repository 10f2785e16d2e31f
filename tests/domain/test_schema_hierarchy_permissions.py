"""Input schemas, trees (cycles, depth, inheritance) and role/profile permissions."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from appliance.domain import hierarchy
from appliance.domain.errors import ValidationError
from appliance.domain.permissions import Perm, effective_permissions, profile_rights, unknown_rights
from appliance.domain.schema import Field, Schema

S = Schema("s", (Field("name", required=True, max_length=5), Field("n", "int", minimum=1, maximum=3),
                 Field("ok", "bool"), Field("at", "datetime"), Field("tags", "list"), Field("ids", "ids"),
                 Field("ref", "id", nullable=True), Field("kind", choices=("a", "b"), default="a")))


def test_schema_cleans_and_names_every_bad_field() -> None:
    assert S.validate({"name": " ab ", "n": 2, "at": "2025-01-01T10:00:00+02:00", "ref": None}) == \
        {"name": "ab", "n": 2, "at": __import__("datetime").datetime(2025, 1, 1, 8, 0), "ref": None, "kind": "a"}
    with pytest.raises(ValidationError) as info:
        S.validate({"n": True, "ok": "yes", "tags": [1], "ids": [0], "kind": "c", "zzz": 1, "name": "toolong"})
    assert set(info.value.fields) == {"n", "ok", "tags", "ids", "kind", "zzz", "name"}
    with pytest.raises(ValidationError):
        S.validate({"n": 9}, partial=True)
    assert S.validate({}, partial=True) == {}
    assert S.validate({"name": "x", "n": "2", "ok": "on", "tags": "a, b\nc", "ids": "1 2 2", "ref": ""},
                      from_form=True) == {"name": "x", "n": 2, "ok": True, "tags": ["a", "b", "c"], "ids": [1, 2],
                                          "ref": None, "kind": "a"}
    assert S.openapi()["required"] == ["name"]


json_st = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                       max_leaves=8)


@given(json_st, st.booleans(), st.booleans())
def test_schema_on_garbage_raises_only_validation_error(data, partial, from_form) -> None:
    try:
        S.validate(data, partial=partial, from_form=from_form)
    except ValidationError:
        pass


def test_trees() -> None:
    parent_of = {1: None, 2: 1, 3: 2, 4: None}
    assert hierarchy.ancestors(3, parent_of) == [2, 1]
    assert hierarchy.creates_cycle(1, 3, parent_of) and hierarchy.creates_cycle(2, 2, parent_of)
    assert not hierarchy.creates_cycle(4, 3, parent_of)
    assert hierarchy.depth_of(3, parent_of) == 4 and hierarchy.depth_of(None, parent_of) == 1
    assert hierarchy.subtree_height(1, parent_of) == 3
    assert hierarchy.inherited_settings([{"a": 1}, {"a": 2, "b": 2}, {"c": 3}]) == {"a": 1, "b": 2, "c": 3}


@given(st.dictionaries(st.integers(1, 20), st.one_of(st.none(), st.integers(1, 20)), max_size=20),
       st.integers(1, 20), st.one_of(st.none(), st.integers(1, 20)))
def test_no_accepted_move_ever_makes_a_cycle(parent_of, node, new_parent) -> None:
    if any(hierarchy.creates_cycle(n, p, {k: v for k, v in parent_of.items() if k != n})
           for n, p in parent_of.items()):
        return  # only start from acyclic trees
    if not hierarchy.creates_cycle(node, new_parent, parent_of):
        moved = {**parent_of, node: new_parent}
        assert node not in hierarchy.ancestors(node, moved)


def test_permissions_by_role_and_profile() -> None:
    assert Perm.TENANTS_WRITE in effective_permissions("admin", True, None)
    assert Perm.TENANTS_WRITE not in effective_permissions("admin", False, None)
    assert Perm.CUSTOMERS_WRITE not in effective_permissions("controlling", False, None)
    assert Perm.HISTORY_ALL not in effective_permissions("agent", False, None)
    assert effective_permissions("nobody", False, None) == frozenset()
    # F4: a child profile never exceeds its parent, whatever it lists.
    assert profile_rights(["tickets.read,audit.read", "tickets.read,tickets.write"]) == {Perm.TICKETS_READ}
    assert effective_permissions("agent", False, ["audit.read,tickets.read"]) == {Perm.TICKETS_READ}
    assert unknown_rights("tickets.read, god.mode") == ["god.mode"]
