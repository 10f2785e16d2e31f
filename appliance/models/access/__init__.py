"""Data access for the API and the admin console: everything goes through a `Scope`, which adds the
tenant filter (and, for customers, the ownership filter) to every query it makes.

Synchronous functions; async callers run them with `Database.call`, i.e. in one transaction.
"""
from appliance.models.access.scope import Actor, Page, Scope, load_actor

__all__ = ["Actor", "Page", "Scope", "load_actor"]
