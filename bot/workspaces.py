"""Every workspace apart: the Web API client for each team, and the teams Baton serves.

With one bot token (`SLACK_BOT_TOKEN`) Baton serves that token's workspace alone, as before. With
OAuth installs (`SLACK_CLIENT_ID`/`SLACK_CLIENT_SECRET`) each workspace has its own bot token in
the installation store (bot/installations.py); a rotating token is refreshed, with slack-sdk's
TokenRotator, when Baton's clock says it expires within `refresh_minutes`. Bolt's `authorize`
(`TeamAuthorize`) and the background work (the outbox, the clock's jobs, the command line) ask
the same object, so a request and a job in the same workspace use the same token.

`each_team` runs a piece of work for every workspace at once, each on its own thread: one
workspace's revoked token, 429 or slow Slack never holds up another's digests.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.context import BoltContext
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.installations import Installations
from bot.slack import Sleep, make_client
from handlers.workspaces import NotInstalled

log = logging.getLogger(__name__)
T = TypeVar("T")
MOST_TEAMS_AT_ONCE = 8  # threads for `each_team`: enough that a stuck workspace holds up nobody
# A workspace's bot is read once per this long, not once per request (authorize runs before every
# acknowledgement). A token revoked meanwhile is refused by Slack; `forget` drops it at once here.
KEEP_BOT = timedelta(seconds=30)


class Workspaces(Protocol):
    def teams(self) -> list[str]:
        """The workspaces Baton serves now."""
        ...

    def client(self, team_id: str) -> WebClient:
        """The Web API client speaking for `team_id`; NotInstalled if Baton isn't there."""
        ...


class OneWorkspace:
    """Single-token mode: every workspace's work goes through the one token, as it always has
    (an import into another team id still looks people up with it)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._team: str | None = None

    def teams(self) -> list[str]:
        if self._team is None:
            self._team = str(self._client.auth_test()["team_id"])
        return [self._team]

    def client(self, team_id: str) -> WebClient:
        return self._client


class Installed:
    """OAuth mode: each workspace's own bot token, from the installation store, kept fresh."""

    def __init__(
        self,
        installations: Installations,
        *,
        api_url: str,
        client_secret: str,
        clock: Callable[[], datetime],
        refresh_minutes: int = 120,
        sleep: Sleep = time.sleep,
        timeout: int = 10,
    ) -> None:
        self.installations = installations
        self.api_url = api_url
        self.clock = clock
        self.refresh_minutes = refresh_minutes
        self.sleep = sleep
        self.timeout = timeout
        self.rotator = TokenRotator(
            client_id=installations.client_id,
            client_secret=client_secret,
            client=make_client(None, api_url, sleep=sleep, timeout=timeout),
        )
        self._clients: dict[str, WebClient] = {}  # team -> the client of its current token
        self._bots: dict[str, tuple[Bot, datetime]] = {}  # team -> its bot, and until when it is kept
        self._refreshing: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def teams(self) -> list[str]:
        return self.installations.installed_teams()

    def client(self, team_id: str) -> WebClient:
        token = self.bot(team_id).bot_token
        with self._lock:
            client = self._clients.get(team_id)
            if client is None or client.token != token:
                # One client per token: the outbox paces its history reads per client.
                client = self._clients[team_id] = make_client(
                    token, self.api_url, sleep=self.sleep, timeout=self.timeout
                )
            return client

    def forget(self, team_id: str) -> None:
        """Drop what this process keeps of the workspace (it was uninstalled, or its token revoked)."""
        with self._lock:
            self._bots.pop(team_id, None)
            self._clients.pop(team_id, None)

    def bot(self, team_id: str) -> Bot:
        """The workspace's bot, its token refreshed first if it expires soon (by Baton's clock)."""
        now = self.clock()
        with self._lock:
            kept = self._bots.get(team_id)
        if kept is not None and now < kept[1] and not self._expiring(kept[0]):
            return kept[0]
        bot = self._read(team_id)
        with self._lock:
            self._bots[team_id] = (bot, now + KEEP_BOT)
        return bot

    def _read(self, team_id: str) -> Bot:
        bot = self.installations.bot(team_id)
        if bot is None or not bot.bot_token:
            raise NotInstalled(team_id)
        if not self._expiring(bot):
            return bot
        with self._lock:
            refreshing = self._refreshing.setdefault(team_id, threading.Lock())
        with refreshing:  # one refresh per workspace at a time; the others use its result
            bot = self.installations.bot(team_id)
            if bot is None or not bot.bot_token:
                raise NotInstalled(team_id)
            if not self._expiring(bot):
                return bot
            # The clock decided; the rotator refreshes whatever it is handed (a window of "always").
            refreshed = self.rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=10**9)
            if refreshed is None or not refreshed.bot_token:
                raise NotInstalled(team_id)
            self.installations.save_bot(refreshed)
            log.info("Refreshed the bot token of workspace %s", team_id)
            return refreshed

    def _expiring(self, bot: Bot) -> bool:
        expires = bot.bot_token_expires_at
        if expires is None or not bot.bot_refresh_token:
            return False
        return float(expires) <= self.clock().timestamp() + self.refresh_minutes * 60


class TeamAuthorize(Authorize):
    """Bolt's `authorize` in OAuth mode: the bot token of the workspace the request came from."""

    def __init__(self, workspaces: Installed) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.workspaces = workspaces

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actors: Any,
    ) -> AuthorizeResult | None:
        if team_id is None:
            return None  # an org-wide request: Baton is installed per workspace only
        try:
            bot = self.workspaces.bot(team_id)
        except NotInstalled:
            log.info("A request from workspace %s, where Baton isn't installed", team_id)
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team=bot.team_name,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


def each_team(
    workspaces: Workspaces, name: str, work: Callable[[str, WebClient], T], *, teams: list[str] | None = None
) -> dict[str, T]:
    """`work(team, client)` for every workspace, each on its own thread; a workspace whose work
    fails (a revoked token, Slack refusing) is logged and left out, and the others carry on."""
    done: dict[str, T] = {}

    def one(team: str) -> None:
        try:
            done[team] = work(team, workspaces.client(team))
        except NotInstalled:
            log.info("The %s job skipped workspace %s: Baton isn't installed there", name, team)
        except Exception:
            log.exception("The %s job failed in workspace %s; it runs again on the next tick", name, team)

    chosen = workspaces.teams() if teams is None else teams
    if len(chosen) == 1:
        one(chosen[0])
        return done
    with ThreadPoolExecutor(max_workers=MOST_TEAMS_AT_ONCE, thread_name_prefix=f"{name}-team") as pool:
        list(pool.map(one, chosen))
    return done
