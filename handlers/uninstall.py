"""A workspace uninstalls Baton (`app_uninstalled`) or revokes its tokens (`tokens_revoked`): Baton
stops for it at once, and its data is deleted after the grace period (coaching/workspaces.py).

These are Bolt's token revocation events, handled like every other kept request (the inbox, a
durable listener) rather than by `enable_token_revocation_listeners`, whose listeners the inbox
would not know. The installation rows go first (Bolt's own `TokenRevocationListeners`, when the
app keeps installations): deleting them twice is harmless, so a request resumed after a crash
does it again safely; then the team's status is written in the request's own transaction.
"""

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners

from coaching import workspaces
from handlers.deps import Deps
from handlers.registration import lazily

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    listeners = Uninstall(deps, app)
    lazily(app.event(workspaces.UNINSTALLED), listeners.app_uninstalled)
    lazily(app.event(workspaces.REVOKED), listeners.tokens_revoked)


class Uninstall:
    def __init__(self, deps: Deps, app: App) -> None:
        self.deps = deps
        store = app.installation_store  # None with a single SLACK_BOT_TOKEN: nothing stored to delete
        self.revocations = TokenRevocationListeners(store) if store is not None else None

    def app_uninstalled(self, context: BoltContext) -> None:
        if self.revocations is not None:
            self.revocations.handle_app_uninstalled_events(context)
        self._stop(str(context.team_id), workspaces.UNINSTALLED)

    def tokens_revoked(self, event: dict[str, Any], context: BoltContext) -> None:
        if self.revocations is not None:
            self.revocations.handle_tokens_revoked_events(event, context)
        tokens = event.get("tokens") or {}
        if tokens.get("bot"):
            self._stop(str(context.team_id), workspaces.REVOKED)
        # Only people's own tokens revoked: Baton works with its bot token and carries on.

    def _stop(self, team_id: str, reason: str) -> None:
        with self.deps.working() as session:
            stopped = workspaces.uninstall(
                session,
                team_id=team_id,
                now=self.deps.clock(),
                grace=self.deps.uninstall_grace,
                reason=reason,
            )
        log.warning(
            "Workspace %s %s: Baton stopped for it (%d messages owed cancelled); its data is deleted after %s",
            team_id,
            "uninstalled Baton" if reason == workspaces.UNINSTALLED else "revoked Baton's bot token",
            stopped.cancelled,
            stopped.delete_after.isoformat(timespec="minutes"),
        )
