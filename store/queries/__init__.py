"""The database's reusable queries, one module per area. Each takes the caller's session and never
commits or closes it; every query on one team's data takes `team_id` by keyword.

Callers write `queries.leads.lead(session, team_id=…, lead_id=…)`: the area is part of the name.
"""

from store.queries import (
    crm,
    digests,
    drafts,
    events,
    handoffs,
    history,
    leads,
    people,
    privacy,
    settings,
    team,
)

__all__ = [
    "crm",
    "digests",
    "drafts",
    "events",
    "handoffs",
    "history",
    "leads",
    "people",
    "privacy",
    "settings",
    "team",
]
