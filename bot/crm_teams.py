"""Each workspace's CRM sync, with its own token: which teams have a CRM, and pushing every team's
changes without one team's trouble holding up another's."""

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot import logs
from bot.crm_sync import CrmSyncer, PushesToCrm
from bot.secrets import Keyring
from coaching.crm_mapping import CrmPort
from handlers.deps import Deps
from store import crm_sync as rows
from store.db import Database

log = logging.getLogger(__name__)


def has_connections(db: Database, crm: str = "hubspot") -> bool:
    """Whether any team stored its own CRM token (read once at start-up)."""
    with db.readers.begin() as session:
        return bool(rows.connections(session, crm=crm))


class CrmSyncers(PushesToCrm):
    """Each team's CRM sync, with its own token: the one it stored with `python -m bot crm connect`
    (sealed at rest), or HUBSPOT_TOKEN for a Baton that serves one workspace. Each team pushes
    on its own, so one team's refused token or rate limit never holds up another's."""

    def __init__(
        self,
        deps: Deps,
        *,
        make_port: Callable[[str], CrmPort],
        keys: Keyring | None,
        env_token: str | None = None,
        slack: Callable[[str], WebClient | None] | None = None,
        crm: str = "hubspot",
    ) -> None:
        super().__init__()
        self.deps, self.make_port, self.keys, self.env_token = deps, make_port, keys, env_token
        self.slack, self.crm = slack, crm
        self._syncers: dict[tuple[str, str], CrmSyncer] = {}  # by team and token: a new token, a new syncer

    def token_of(self, team_id: str) -> str | None:
        with self.deps.db.readers.begin() as session:
            stored = rows.connection(session, team_id=team_id, crm=self.crm)
            sealed = stored.token if stored is not None else None
        if sealed is None:
            return self.env_token
        if self.keys is None:
            log.error(
                "Team %s's CRM token is stored sealed but BATON_SECRET_KEY is not set: not syncing it",
                team_id,
            )
            return None
        return self.keys.open(sealed)

    def for_team(self, team_id: str) -> CrmSyncer | None:
        """The team's syncer, or None when it has no CRM to sync with."""
        token = self.token_of(team_id)
        if token is None:
            return None
        key = (team_id, token)
        if key not in self._syncers:
            logs.install([token])  # a stored token, opened: never in a log line
            client = self.slack(team_id) if self.slack is not None else None
            self._syncers[key] = CrmSyncer(self.deps, self.make_port(token), crm=self.crm, slack=client)
        return self._syncers[key]

    def connected_teams(self) -> list[str]:
        """Teams that stored their own CRM token."""
        with self.deps.db.readers.begin() as session:
            return [c.team_id for c in rows.connections(session, crm=self.crm)]

    def push_all(self) -> int:
        with self.deps.db.readers.begin() as session:
            teams = rows.teams_owed(session, crm=self.crm, now=self.deps.clock())
        pushed = 0
        for team_id in teams:
            try:
                syncer = self.for_team(team_id)
                if syncer is not None:
                    pushed += syncer.push(team_id).pushed
            except Exception:  # one team's CRM failing never holds up the next team's
                log.exception("Pushing team %s's changes to the CRM failed; they stay owed", team_id)
        return pushed
