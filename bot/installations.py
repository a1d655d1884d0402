"""Where each workspace's installation is kept: slack-sdk's SQLAlchemy stores over Baton's database.

Bolt's OAuth flow saves an installation here when a workspace installs Baton, and its `authorize`
reads the bot token back for every request. The tables are Baton's own (store/installations.py,
created by the migrations), so the stores never create anything themselves.

Every token passes through one seam on its way in (`_seal`) and out (`_open`): sealed at rest with
Fernet under BATON_SECRET_KEY (bot/secrets.py, `use_keys`), and nowhere else. Finding an installation reads
through a read-only engine: on SQLite a write transaction takes the database's one write lock,
and `authorize` runs on every request.

For the parts of Baton that look after a workspace's life (uninstall, deletion after a grace
period): `installed_teams()`, `is_installed(team_id)` and `forget(team_id)`.

Expiry times: slack-sdk stamps a rotating token's expiry from the wall clock (`time()` plus
Slack's `expires_in`) just before saving it; the store moves it onto Baton's clock, the one tests
move, so the token expires when Baton (and the stand-in Slack) think it does. In production the
two clocks are one and the move changes nothing.
"""

import copy
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, and_, delete, select

from bot.secrets import PLAIN_PREFIXES, Keyring
from coaching import workspaces
from store import installations as tables
from store.db import READ_ONLY, Database

log = logging.getLogger(__name__)

STATE_EXPIRES_SECONDS = 600  # an install link is good for ten minutes (Bolt's default)
_TOKENS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


_keys: Keyring | None = None  # BATON_SECRET_KEY's keys (bot/secrets.py), set once at start-up


def use_keys(keys: Keyring | None) -> None:
    """Seal every token written from now on with `keys`, and open the stored ones with them. Without
    keys a token is stored as given, and the next start-up refuses it until it is sealed
    (`python -m bot secrets rotate`)."""
    global _keys
    _keys = keys


def _seal(token: str | None) -> str | None:
    """A token as it is written to the database: sealed under BATON_SECRET_KEY's first key."""
    if token is None or _keys is None:
        return token
    return _keys.seal(token)


def _open(token: str | None) -> str | None:
    """A token as it was before `_seal` (one stored before sealing began reads as it is)."""
    if token is None or _keys is None or token.startswith(PLAIN_PREFIXES):
        return token
    return _keys.open(token)


def _with_tokens(thing: Any, change: Any) -> Any:
    """A copy of an Installation or Bot with each of its tokens passed through `change`."""
    changed = copy.copy(thing)
    for name in _TOKENS:
        if hasattr(changed, name):
            setattr(changed, name, change(getattr(changed, name)))
    return changed


class _Tables(SQLAlchemyInstallationStore):
    """The SDK's store on Baton's tables, every token through the seam."""

    def __init__(self, client_id: str, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(client_id, engine, logger=log)
        self.metadata = tables.installations.metadata
        self.installations = tables.installations
        self.bots = tables.bots
        self.clock = clock

    def save(self, installation: Installation) -> None:
        sealed = self._on_our_clock(_with_tokens(installation, _seal))
        # The SDK saves the bot row from `installation.to_bot()`; that goes through save_bot,
        # which seals on its own: hand it the tokens as they came, not sealed twice.
        sealed.to_bot = installation.to_bot
        super().save(sealed)

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._on_our_clock(_with_tokens(bot, _seal)))

    def _on_our_clock(self, thing: Any) -> Any:
        if self.clock is None:
            return thing
        shift = int(self.clock().timestamp()) - int(time.time())
        for name in ("bot_token_expires_at", "user_token_expires_at"):
            expires = getattr(thing, name, None)
            if isinstance(expires, int):
                setattr(thing, name, expires + shift)
        return thing

    @classmethod
    def build_installation_entity(cls, row: Any) -> Installation:
        found: Installation = _with_tokens(super().build_installation_entity(row), _open)
        return found

    @classmethod
    def build_bot_entity(cls, row: Any) -> Bot:
        found: Bot = _with_tokens(super().build_bot_entity(row), _open)
        return found


class InstallationStore(_Tables):
    """What Bolt's OAuth flow and `authorize` are given: writes as the SDK does them, finds read-only."""

    def __init__(self, client_id: str, db: Database, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(client_id, db.engine, clock)
        self._reads = _Tables(client_id, db.engine.execution_options(**{READ_ONLY: True}))
        self._db = db

    def save(self, installation: Installation) -> None:
        super().save(installation)
        if installation.team_id:
            # Installed (again): a workspace that had uninstalled Baton within the grace period is
            # running again, with everything it had (coaching/workspaces.py).
            with self._db.sessions.begin() as session:
                workspaces.reinstalled(session, team_id=installation.team_id)

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        return self._reads.find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return self._reads.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )


class StateStore(SQLAlchemyOAuthStateStore):
    """The SDK's OAuth state store on Baton's table: each state is issued once and consumed once."""

    def __init__(self, db: Database, *, expiration_seconds: int = STATE_EXPIRES_SECONDS) -> None:
        super().__init__(expiration_seconds, db.engine, logger=log)
        self.metadata = tables.oauth_states.metadata
        self.oauth_states = tables.oauth_states


class Installations:
    """Baton's installations: the two stores Bolt needs, and what the rest of Baton asks of them."""

    def __init__(self, db: Database, client_id: str, *, clock: Callable[[], datetime] | None = None) -> None:
        """`clock`: Baton's, when it isn't the wall clock (tests); token expiry follows it."""
        self.db = db
        self.client_id = client_id
        self.store = InstallationStore(client_id, db, clock)
        self.states = StateStore(db)

    def installed_teams(self) -> list[str]:
        """Every workspace with a bot token, in a stable order."""
        bots = tables.bots.c
        with self.db.readers.begin() as session:
            rows = session.execute(
                select(bots.team_id)
                .where(and_(bots.client_id == self.client_id, bots.bot_token.is_not(None)))
                .where(bots.team_id.is_not(None))
                .distinct()
                .order_by(bots.team_id)
            )
            return [str(team_id) for (team_id,) in rows]

    def save_bot(self, bot: Bot) -> None:
        """A bot whose token was refreshed: found from now on instead of the one before."""
        self.store.save_bot(bot)

    def is_installed(self, team_id: str) -> bool:
        return self.bot(team_id) is not None

    def bot(self, team_id: str) -> Bot | None:
        """The workspace's newest bot (its token opened), or None if Baton isn't installed there.

        The SDK's `find_bot` finds by (enterprise, team); Baton knows the team alone, so this is
        the same query by team, in one read."""
        bots = tables.bots.c
        with self.db.readers.begin() as session:
            row = (
                session.execute(
                    select(tables.bots)
                    .where(and_(bots.client_id == self.client_id, bots.team_id == team_id))
                    .where(bots.bot_token.is_not(None))
                    .order_by(bots.installed_at.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return None if row is None else self.store.build_bot_entity(row)

    def forget(self, team_id: str) -> int:
        """Delete every installation and bot row of the workspace (its tokens with them). Returns rows deleted."""
        with self.db.sessions.begin() as session:
            deleted = 0
            for table in (tables.installations, tables.bots):
                result = session.execute(
                    delete(table).where(and_(table.c.client_id == self.client_id, table.c.team_id == team_id))
                )
                deleted += int(getattr(result, "rowcount", 0) or 0)
        return deleted
