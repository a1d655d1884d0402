"""What the command line's subcommands share: the database brought up to date, the workspace a
command works on, and the checks made before starting."""

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from bot.config import Mode, Settings

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from store.db import Database


TEAM_HELP = (
    "Slack team id T… (default: the bot token's team; with OAuth installs, required when Baton is "
    "installed in more than one workspace)"
)


def missing_database(settings: Settings) -> str | None:
    """A reading command pointed at a SQLite file that isn't there: said, rather than creating an empty
    database and reporting that nothing is due (the usual cause: DATABASE_URL not set in this shell)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if Path(url.database).exists():
        return None
    return (
        f"There is no database at {url.database} ({settings.database_url}), so there is nothing to read. "
        "Set DATABASE_URL to Baton's database (the try-out's is sqlite:///baton-tryout.db), "
        "or run `python -m bot db upgrade` to create an empty one."
    )


class WhichTeam(Exception):
    """Baton is installed in several workspaces (or not in the one named): the command must be told which."""


def workspace(settings: Settings, db: "Database", given: str | None) -> "tuple[str | None, WebClient]":
    """The workspace a command works on, and the client speaking for it. One bot token: its own
    client, and `--team` if given (None: every team it serves). OAuth installs: `--team`, or the
    only workspace Baton is installed in."""
    from bot.app import utc_now
    from bot.installations import Installations
    from bot.slack import make_client
    from bot.workspaces import Installed

    if settings.mode is not Mode.OAUTH:
        return given, make_client(settings.bot_token, settings.api_url)
    assert settings.client_id and settings.client_secret
    installed = Installed(
        Installations(db, settings.client_id),
        api_url=settings.api_url,
        client_secret=settings.client_secret,
        clock=utc_now,
        refresh_minutes=settings.token_refresh_minutes,
    )
    teams = installed.teams()
    if given is None and len(teams) == 1:
        given = teams[0]
    if given is None or given not in teams:
        listed = ", ".join(teams) or "none yet"
        problem = f"Baton isn't installed in workspace {given}" if given else "Which workspace?"
        raise WhichTeam(f"{problem}: pass --team T… (installed in: {listed}).")
    return given, installed.client(given)


def instant(text: str) -> datetime:
    """An ISO 8601 instant for --at; one without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unreadable_secrets(settings: Settings) -> str | None:
    """Why Baton must not start: a stored secret none of BATON_SECRET_KEY's keys opens (said
    without the secret), or None. Checked once, before serving, not on each workspace's requests."""
    from bot.secrets import SecretsError, check_stored, keyring
    from store.db import open_database

    db = open_database(settings.database_url, pool_size=1)
    try:
        check_stored(db, keyring(settings.secret_keys))
    except SecretsError as error:
        return str(error)
    finally:
        db.engine.dispose()
    return None


def migrate(settings: Settings) -> None:
    from store.db import make_engine
    from store.migrate import upgrade

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def team_database(settings: Settings, given: str | None) -> "tuple[Database, WebClient | None, str]":
    """The database, the client speaking for the team, and the team; WhichTeam when it can't tell
    which (the message says what to pass)."""
    from bot.crm import pick_team
    from bot.slack import make_client
    from store.db import open_database

    migrate(settings)
    db = open_database(settings.database_url, pool_size=2)
    try:
        if settings.mode is Mode.OAUTH:
            team, installed = workspace(settings, db, given)
            if team is not None:
                return db, installed, team
        else:
            client = make_client(settings.bot_token, settings.api_url) if settings.bot_token else None
            if (picked := pick_team(db, client, given)) is not None:
                return db, client, picked
    except BaseException:
        db.engine.dispose()
        raise
    db.engine.dispose()
    raise WhichTeam("Which team? Pass --team T0123ABCD (or set SLACK_BOT_TOKEN).")
