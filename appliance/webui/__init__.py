"""The embedded web UI: admin console, agent desk, wallboard and REST API (aiohttp)."""
