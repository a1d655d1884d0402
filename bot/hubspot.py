"""HubSpot's side of the CRM port (coaching/crm_mapping.py): the pull's reads and the push's writes."""

from bot.hubspot_pull import HubSpotPull
from bot.hubspot_push import HubSpotPush


class HubSpotCrm(HubSpotPull, HubSpotPush):
    """The CRM port for one HubSpot account (a private app's token)."""

    name = "hubspot"
