"""peewee models of the appliance. Tables are created by versioned migrations in migrations/."""
from __future__ import annotations

import peewee

database_proxy = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    """All models live in the one configured database."""

    class Meta:
        database = database_proxy
        legacy_table_names = False


from appliance.models.auth import ApiToken, User  # noqa: E402  (after BaseModel, which they use)

__all__ = ["BaseModel", "database_proxy", "User", "ApiToken"]
