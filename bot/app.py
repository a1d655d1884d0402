"""The app factory: one engine, the Web API clients (one bot token's, or each installed workspace's), one Bolt App with every handler module registered."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient

from bot import installations, logs
from bot.config import Mode, Settings
from bot.crm_sync import PushesToCrm
from bot.crm_teams import CrmSyncers, has_connections
from bot.hubspot import HubSpotCrm
from bot.install import oauth_flow
from bot.installations import Installations
from bot.pool import ListenerPool
from bot.retention import Tidy
from bot.secrets import keyring
from bot.slack import Sleep, make_client
from bot.workspaces import Installed, OneWorkspace, TeamAuthorize, Workspaces, each_team
from coaching.leases import HEARTBEAT
from coaching.standing import Standings
from coaching.workspaces import any_stopped, is_stopped, reinstalled
from handlers import (
    coach,
    dead_letters,
    digest,
    events,
    handoffs,
    home,
    leads,
    logcall,
    pipeline,
    registration,
    review,
    uninstall,
)
from handlers.courier import Courier
from handlers.deps import Deps
from handlers.directory import Directory
from handlers.inbox import Door
from handlers.outbox_leases import adopt_sending
from store.db import Database, is_sqlite, open_database

HANDLER_MODULES = (
    registration,
    logcall,
    leads,
    pipeline,
    handoffs,
    digest,
    events,
    home,
    coach,
    review,
    uninstall,
)


SETTLED = timedelta(seconds=5)  # the recovery loop's sweeps leave a post owed this recently to its listener


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Baton:
    """Everything one process runs: the Bolt app and what it was built from."""

    app: App
    deps: Deps
    pool: ListenerPool
    client: WebClient  # the bot token's; with OAuth installs, tokenless (each workspace has its own)
    signing_secret: str  # bot/front_door.py checks every HTTP request with it before Bolt sees it
    door: Door  # the inbox: what Slack had acknowledged is kept, done once, resumed
    tidy: Tidy  # finished work pruned after its keeping time
    workspaces: Workspaces  # each workspace's client, and which workspaces Baton serves
    # Each team's CRM sync (bot/crm_sync.py): HUBSPOT_TOKEN for one workspace, or each team's own
    # token stored by `python -m bot crm connect`. None: nothing to sync with.
    crm: PushesToCrm | None = None
    settings: Settings | None = None
    installations: Installations | None = None  # with OAuth installs (SLACK_CLIENT_ID/SECRET)

    def recover(self) -> int:
        """Finish what a dead process left: requests it acknowledged, messages it owed, and what
        the CRM is owed (a touch reaches HubSpot within a minute of being logged); and prune
        finished work past its keeping time (every few minutes). Requests that used up their
        tries end as dead letters, their senders told. Returns requests resumed."""
        resumed = self.resume()
        self._owed()
        return resumed

    def resume(self) -> int:
        courier = Courier(self.deps, self.client, per_team=self.workspaces.client)
        return self.door.resume(
            self.app,
            tell=lambda session, dead: dead_letters.owe_notices(self.deps, session, dead),
            send=courier.send,
            sending=adopt_sending,
        )

    def _owed(self) -> None:
        self.sweep_outbox()
        if self.crm is not None:
            self.crm.push_in_background()
        self.tidy.when_due()

    def sweep_outbox(self, *, settled: timedelta = timedelta(0)) -> None:
        """Send what the outbox still owes (`settled`: as Courier.sweep). With installs in many
        workspaces, each workspace's rows with its own client, the workspaces side by side: one
        whose Slack is slow to answer holds up no other's messages."""
        if self.installations is None:
            Courier(self.deps, self.client, per_team=self.workspaces.client).sweep(settled=settled)
            return

        def sweep(team_id: str, client: WebClient) -> None:
            swept = Courier(self.deps, client).sweep(settled=settled, team_id=team_id)
            logging.getLogger("baton").info("Outbox in %s: %s", team_id, swept)

        each_team(self.workspaces, "outbox", sweep)

    def keep_recovering(
        self, every: float = 15.0, *, stop: threading.Event | None = None
    ) -> threading.Thread:
        """In a serving process, on a daemon thread, until `stop` is set (a pass under way finishes
        first): at start-up and then every few seconds, the heartbeat (this process's leases
        renewed), a recovery pass and the outbox's sweep (each a cheap read when there is nothing
        to do: a dead process's messages go out seconds after its leases run out); the CRM push
        and the tidy every `every` seconds. Every process may do it at once: each request and
        each message is taken by one of them."""
        stopped = stop or threading.Event()
        beat = HEARTBEAT.total_seconds()
        db = self.deps.db
        db.checkpoint_apart()  # SQLite's log is copied here, beside the writers (store/db.py)

        def loop() -> None:
            last_sweep = -every
            while not stopped.is_set():
                try:
                    db.checkpoint()
                    self.door.heartbeat()
                    self.resume()
                    if time.monotonic() - last_sweep >= every:
                        last_sweep = time.monotonic()
                        self._owed()
                    else:
                        self.sweep_outbox(settled=SETTLED)
                except Exception:
                    logging.getLogger("baton").exception("Recovery failed; trying again shortly")
                stopped.wait(beat)

        thread = threading.Thread(target=loop, name="recover", daemon=True)
        thread.start()
        return thread


def _resume_if_reinstalled(db: Database, client: WebClient) -> None:
    """A single bot token that works means its workspace has Baton installed: if that workspace had
    uninstalled Baton, this is the reinstall within the grace period, and it picks up where it
    stopped. Slack is asked whose token it is only when some workspace is stopped (rarely), so a
    normal start makes no call beyond Bolt's own check of the token."""
    with db.readers.begin() as session:
        if not any_stopped(session):
            return
    team_id = str(client.auth_test()["team_id"])
    with db.readers.begin() as session:
        was_stopped = is_stopped(session, team_id)
    if was_stopped:  # read first: a start-up takes no write lock for nothing
        with db.sessions.begin() as session:
            reinstalled(session, team_id=team_id)
        logging.getLogger("baton").info("Workspace %s installed Baton again: running for it", team_id)


def deps_for(
    settings: Settings, db: Database, *, clock: Callable[[], datetime] = utc_now, sleep: Sleep = time.sleep
) -> Deps:
    """What the handlers need, without a Bolt app: for command-line jobs like `digest`."""
    standings = Standings(settings.team, clock)
    db.sessions.after_commit(standings.committed)  # a change made here is seen here at once
    return Deps(
        db=db,
        clock=clock,
        defaults=settings.team,
        directory=Directory(db, clock),
        standings=standings,
        sleep=sleep,
        uninstall_grace=timedelta(days=settings.retention.uninstall_grace_days),
    )


def create(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] = utc_now,
    sleep: Sleep = time.sleep,
    verify_token: bool = True,
    client_timeout: int = 10,
    pool: ListenerPool | None = None,
) -> Baton:
    """Build the app. With `verify_token`, Bolt checks the bot token with `auth.test` right away,
    so a wrong token fails at start-up rather than on the first command. With OAuth installs
    (`settings.client_id`), there is no one token: Bolt's OAuth flow installs Baton in each
    workspace and `authorize` picks the workspace's token for each request (bot/workspaces.py)."""
    oauth = settings.mode is Mode.OAUTH
    if oauth:
        if not settings.client_secret or not settings.signing_secret:
            raise ValueError("OAuth installs need the client id, client secret and signing secret")
    elif not settings.bot_token or (not settings.signing_secret and not settings.app_token):
        raise ValueError("create() needs Slack credentials; without them run the try-out")
    logs.install(
        [
            settings.bot_token,
            settings.signing_secret,
            settings.app_token,
            settings.client_secret,
            *settings.secret_keys,
        ]
    )
    installations.use_keys(keyring(settings.secret_keys))  # installation tokens sealed at rest
    if db is None:
        # SQLite connections cost nothing but a file handle: one per thread. PostgreSQL's are
        # counted against the server's limit: threads beyond the budget wait their turn.
        sqlite = is_sqlite(settings.database_url)
        db = open_database(
            settings.database_url, pool_size=settings.listener_threads if sqlite else settings.db_connections
        )
    client = make_client(settings.bot_token, settings.api_url, sleep=sleep, timeout=client_timeout)
    pool = pool or ListenerPool(settings.listener_threads)
    deps = deps_for(settings, db, clock=clock, sleep=sleep)
    kept: Installations | None = None  # each workspace's installation
    workspaces: Workspaces = OneWorkspace(client)
    installs: dict[str, object] = {}
    if oauth and settings.client_id and settings.client_secret:
        kept = Installations(db, settings.client_id, clock=clock)
        installed = Installed(
            kept,
            api_url=settings.api_url,
            client_secret=settings.client_secret,
            clock=clock,
            refresh_minutes=settings.token_refresh_minutes,
            sleep=sleep,
            timeout=client_timeout,
        )
        workspaces = installed
        installs = {
            "oauth_flow": oauth_flow(
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                installations=kept,
                deps=deps,
                api_url=settings.api_url,
                redirect_uri=settings.redirect_uri,
                refresh_minutes=settings.token_refresh_minutes,
            ),
            "authorize": TeamAuthorize(installed),
        }
    app = App(
        name="baton",
        logger=logging.getLogger("baton.bolt"),
        # Signatures are checked at the front door (bot/front_door.py) before the body is parsed:
        # Bolt's own check logs the whole body of a request that fails it. Socket Mode needs none.
        signing_secret=settings.signing_secret or "",
        request_verification_enabled=False,
        client=client,
        token_verification_enabled=verify_token and not oauth,
        listener_executor=pool,
        # Acknowledge in the request thread; work runs as lazy listeners on the pool (handlers/registration.py).
        process_before_response=True,
        **installs,  # type: ignore[arg-type]
    )
    if verify_token and not oauth:  # Bolt has just checked the token: it works
        _resume_if_reinstalled(db, client)
    door = Door(db, clock)
    door.register(app)  # first: a request is in the inbox before any listener acknowledges it
    for module in HANDLER_MODULES:
        module.register(app, deps)
    registration.unhandled(app)  # last: whatever no listener above matched
    crm = (
        CrmSyncers(
            deps,
            make_port=lambda token: HubSpotCrm(token, api_url=settings.hubspot_api_url, sleep=sleep),
            keys=keyring(settings.secret_keys),
            env_token=settings.hubspot_token,
            slack=workspaces.client,
        )
        if settings.hubspot_token or oauth or has_connections(db)
        else None
    )
    return Baton(
        app=app,
        deps=deps,
        pool=pool,
        client=client,
        signing_secret=settings.signing_secret or "",
        door=door,
        tidy=Tidy(db, clock, settings.retention),
        workspaces=workspaces,
        crm=crm,
        settings=settings,
        installations=kept,
    )
