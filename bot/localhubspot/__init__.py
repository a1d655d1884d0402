"""A local HubSpot for the try-out, the tests and the benchmark: an in-memory account (`HubSpot`)
and an HTTP server speaking HubSpot's CRM API (`LocalHubSpot`), with HubSpot's limits and faults.

    hubspot = HubSpot()
    with LocalHubSpot(hubspot) as local:
        client = hubspot_client.HubSpot(access_token=hubspot.token, host=local.url)
"""

from bot.localhubspot import associations, objects  # noqa: F401  (they register their routes)
from bot.localhubspot.account import HubSpot
from bot.localhubspot.errors import ApiError
from bot.localhubspot.limits import Faults
from bot.localhubspot.model import iso
from bot.localhubspot.server import LocalHubSpot

__all__ = ["ApiError", "Faults", "HubSpot", "LocalHubSpot", "iso"]
