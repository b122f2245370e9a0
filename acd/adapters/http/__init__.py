"""HTTP: the API for agents, supervisors and admins (aiohttp)."""
