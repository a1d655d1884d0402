"""Which Web API client speaks for a workspace: what handlers and jobs ask when the work isn't a request's.

A request comes with its own client (Bolt's `authorize` chose the token of the workspace it came
from). Work that spans workspaces (the outbox's sweep, the clock's jobs) asks `ClientFor` for
each workspace's client instead; bot/workspaces.py answers, from the one bot token or from the
installations.
"""

from collections.abc import Callable

from slack_sdk import WebClient

ClientFor = Callable[[str], WebClient]


class NotInstalled(LookupError):
    """Baton has no working installation in this workspace (never installed, or uninstalled)."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"Baton isn't installed in workspace {team_id}")
        self.team_id = team_id
