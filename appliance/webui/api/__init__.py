"""The REST API under /api/v1 (G8): JSON, bearer tokens, scoped access, OpenAPI at /api/v1/openapi.json.

Importing the modules registers their operations on `routes`.
"""
from appliance.webui.api import audit, auth, crud, customers, documents, openapi, tickets, transfer  # noqa: F401
from appliance.webui.api import acd_media, prompts  # noqa: F401  (voice messages, surveys, prompts)
from appliance.webui.api import content  # noqa: F401  (text blocks and templates, E3–E5)
from appliance.webui.api.base import OPERATIONS, routes

__all__ = ["routes", "OPERATIONS"]
