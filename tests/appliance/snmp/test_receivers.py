"""Receiver forms are checked field by field; rows keep their secrets sealed (SQLite and PostgreSQL)."""
from __future__ import annotations

import os

import pytest

from appliance.db import Database
from appliance.models.snmp import TrapReceiver
from appliance.security.secrets import SecretBox, SecretError, hint
from appliance.snmp import receivers

KEY = os.urandom(32)
V3 = {"name": "nms", "host": "nms.example", "port": "162", "version": "v3", "v3_user": "station",
      "auth": "auth-secret-1", "priv": "priv-secret-2", "enabled": "on"}


@pytest.mark.parametrize("change, field, message", [
    ({"name": ""}, "name", "must be 1–64"),
    ({"name": "a/b"}, "name", "must be 1–64"),
    ({"host": ""}, "host", "is required"),
    ({"host": "bad host"}, "host", "must be a host name or an IP address"),
    ({"host": "-x.example"}, "host", "must be a host name"),
    ({"port": "0"}, "port", "1–65535"),
    ({"port": "16x"}, "port", "1–65535"),
    ({"version": "v1"}, "version", "must be v2c or v3"),
    ({"v3_user": ""}, "v3_user", "1–32 printable"),
    ({"v3_user": "with space"}, "v3_user", "1–32 printable"),
    ({"auth": "short"}, "auth", "authentication passphrase must have 8–128"),
    ({"priv": ""}, "priv", "privacy passphrase must have 8–128"),
    ({"version": "v2c"}, "community", "is required for v2c"),
    ({"version": "v2c", "community": "has space"}, "community", "printable characters without spaces"),
])
def test_each_bad_field_is_named(change: dict, field: str, message: str) -> None:
    _, errors = receivers.validate({**V3, **change})
    assert list(errors) == [field] and message in errors[field]


def test_good_forms_and_defaults() -> None:
    values, errors = receivers.validate({**V3, "port": "", "enabled": ""})
    assert errors == {} and values["port"] == 162 and values["enabled"] is False
    values, errors = receivers.validate({"name": "v2", "host": "2001:db8::1", "version": "v2c", "community": "c0mm"})
    assert errors == {} and values["community"] == "c0mm"


def test_secrets_are_bound_to_key_and_purpose() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("priv-secret-2", "trap_receiver.1.priv")
    assert "priv-secret-2" not in sealed and box.open(sealed, "trap_receiver.1.priv") == "priv-secret-2"
    with pytest.raises(SecretError, match="trap_receiver.2.priv"):
        box.open(sealed, "trap_receiver.2.priv")          # copied into another row
    with pytest.raises(SecretError):
        SecretBox(os.urandom(32)).open(sealed, "trap_receiver.1.priv")
    with pytest.raises(SecretError):
        box.open(sealed[:-4], "trap_receiver.1.priv")
    assert box.seal("", "x") == "" and hint("") == "" and hint("abcdefgh") == "set (8 characters)"


def test_rows_seal_keep_and_describe(database_url: str) -> None:
    db = Database(database_url)
    box = SecretBox(KEY)
    try:
        with db.peewee.connection_context():
            db.migrate()
            values, _ = receivers.validate(V3)
            row = receivers.save(box, values)
            assert receivers.target_of(row, box).auth == "auth-secret-1"
            # An edit without secrets keeps them; a changed one replaces it.
            values, errors = receivers.validate({**V3, "auth": "", "priv": "new-priv-secret"}, row)
            assert errors == {}
            row = receivers.save(box, values, row.id)
            target = receivers.target_of(TrapReceiver.get_by_id(row.id), box)
            assert (target.auth, target.priv, target.name) == ("auth-secret-1", "new-priv-secret", f"receiver-{row.id}")
            shown = receivers.describe(row, box)
            assert "auth-secret-1" not in str(shown) and shown["auth"] == "set (13 characters ending …-1)"
            # Switching to v2c needs a community and drops the v3 keys.
            _, errors = receivers.validate({**V3, "version": "v2c", "community": ""}, row)
            assert errors == {"community": "is required for v2c"}
            values, _ = receivers.validate({**V3, "version": "v2c", "community": "c0mm"}, row)
            row = receivers.save(box, values, row.id)
            assert (row.auth_sealed, row.priv_sealed, row.v3_user) == ("", "", "")
            assert receivers.name_taken("nms", None) and not receivers.name_taken("nms", row.id)
    finally:
        db.close()
