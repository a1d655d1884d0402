"""Settings from the environment, read once at start-up and checked all at once.

`load_settings(env)` is the only place Baton reads its configuration; `bot/__main__.py` loads
`.env` into the environment first. Tests build `Settings(...)` directly.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import time
from enum import StrEnum
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.secrets import ENV as SECRET_KEY_ENV
from bot.secrets import parse_keys
from coaching.retention import DEFAULT_RETENTION, Retention
from coaching.rules import DEFAULT_RULES, Rules
from coaching.settings import (
    DEFAULT_TEAM,
    WORKDAYS,
    BadValue,
    TeamConfig,
    parse_channel,
    parse_days,
    parse_send_time,
    parse_weekday,
)
from store.db import normalize_url

T = TypeVar("T")
SLACK_API = "https://slack.com/api/"
DEFAULT_DATABASE = "sqlite:///baton.db"
HUBSPOT_API = "https://api.hubapi.com"

RULE_ENV = {
    "follow_up_days": "COACH_FOLLOW_UP_DAYS",
    "attempts_suggest": "COACH_ATTEMPTS_SUGGEST",
    "attempts_limit": "COACH_ATTEMPTS_LIMIT",
    "attempts_cap": "COACH_ATTEMPTS_CAP",
    "sales_cycle_days": "COACH_SALES_CYCLE_DAYS",
    "stall_days": "COACH_STALL_DAYS",
    "squat_days": "COACH_SQUAT_DAYS",
    "lapse_days": "COACH_LAPSE_DAYS",
}
assert set(RULE_ENV) == {f.name for f in fields(Rules)}


class Mode(StrEnum):
    SOCKET = "socket"  # SLACK_APP_TOKEN: Socket Mode, scheduler in the same process
    HTTP = "http"  # bot token and signing secret: the HTTP server, one workspace
    OAUTH = "oauth"  # client id, secret and signing secret: the HTTP server, installed from a link in many
    TRYOUT = "tryout"  # no Slack credentials: the local try-out


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    # OAuth installs in many workspaces (README, Deploying): instead of SLACK_BOT_TOKEN.
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None  # SLACK_REDIRECT_URI: only if the app lists several redirect URLs
    token_refresh_minutes: int = 120  # a rotating token is refreshed this long before it expires
    api_url: str = SLACK_API
    database_url: str = DEFAULT_DATABASE
    team: TeamConfig = DEFAULT_TEAM  # each workspace's defaults; /coach set overrides them per team
    port: int = 3000
    web_concurrency: int = 2
    listener_threads: int = 32
    # PostgreSQL connections each process may hold (README, Deploying: the connection budget).
    db_connections: int = 8
    # Clock processes running (README, "Computing every morning digest"): each claims its share.
    clock_processes: int = 1
    log_level: str = "INFO"
    # The CRM sync (README, "CRM sync (HubSpot)"): no token, no sync.
    hubspot_token: str | None = None
    hubspot_api_url: str = HUBSPOT_API
    hubspot_default_owner: str | None = None  # a Slack id: owner of records whose owner isn't in Slack
    # how long finished work, dead letters, notes and an uninstalled workspace's data are kept
    retention: Retention = DEFAULT_RETENTION
    # BATON_SECRET_KEY: Fernet keys sealing the tokens stored in the database; the first seals (bot/secrets.py)
    secret_keys: tuple[str, ...] = ()

    @property
    def rules(self) -> Rules:
        return self.team.rules

    @property
    def manager_ids(self) -> frozenset[str]:
        return self.team.manager_ids

    @property
    def mode(self) -> Mode:
        if self.app_token:
            return Mode.SOCKET
        if self.client_id:
            return Mode.OAUTH
        if self.bot_token:
            return Mode.HTTP
        return Mode.TRYOUT


class ConfigError(Exception):
    """Every problem with the configuration, so one start-up attempt reports them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def __str__(self) -> str:
        return "Baton can't start: " + "; ".join(self.problems) + "."


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def load_settings(env: Mapping[str, str], *, serving: bool = True) -> Settings:
    """`serving=False` for commands that only call Slack's Web API (import, export, digest, db):
    they need the bot token, not the secret or app token that receiving requests does."""
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    def number(name: str, default: int, *, unit: str = "") -> int:
        raw = get(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < 1:
            problems.append(f"{name} must be a whole number{unit} of at least 1, got {raw!r}")
            return default
        return int(raw)

    bot_token, signing_secret, app_token = (
        get("SLACK_BOT_TOKEN"),
        get("SLACK_SIGNING_SECRET"),
        get("SLACK_APP_TOKEN"),
    )
    if bot_token and not bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    if app_token and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
    redirect_uri = get("SLACK_REDIRECT_URI")
    oauth = bool(client_id or client_secret)
    if oauth:
        # Installed from a link: each workspace's token comes from its installation.
        if not client_id:
            problems.append("SLACK_CLIENT_ID is missing (OAuth installs need it with SLACK_CLIENT_SECRET)")
        if not client_secret:
            problems.append("SLACK_CLIENT_SECRET is missing (OAuth installs need it with SLACK_CLIENT_ID)")
        if bot_token:
            problems.append(
                "SLACK_BOT_TOKEN can't be used with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET: each workspace's "
                "token comes from its install (remove one or the other)"
            )
        if app_token:
            problems.append(
                "SLACK_APP_TOKEN (Socket Mode) serves one workspace: OAuth installs in many need the "
                "HTTP server (remove SLACK_APP_TOKEN, or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET)"
            )
        if serving and not signing_secret:
            problems.append("SLACK_SIGNING_SECRET is missing (needed to serve HTTP with OAuth installs)")
        if redirect_uri and not re.match(r"^https?://[^/\s]+/", redirect_uri):
            problems.append(f"SLACK_REDIRECT_URI must be an http(s) URL, got {redirect_uri!r}")
    else:
        if (app_token or signing_secret) and not bot_token:
            problems.append(
                "SLACK_BOT_TOKEN is missing (needed with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET; "
                "or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs)"
            )
        if serving and bot_token and not app_token and not signing_secret:
            problems.append(
                "SLACK_SIGNING_SECRET is missing (needed to serve HTTP; or set SLACK_APP_TOKEN for Socket Mode)"
            )

    api_url = get("SLACK_API_URL") or SLACK_API
    if not re.match(r"^https?://[^/\s]+", api_url):
        problems.append(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    api_url = api_url if api_url.endswith("/") else api_url + "/"

    database_url = normalize_url(get("DATABASE_URL") or DEFAULT_DATABASE)
    try:
        make_url(database_url)
    except ArgumentError:
        problems.append("DATABASE_URL is not a database URL (e.g. sqlite:///baton.db or postgresql://…)")

    managers = frozenset(part.strip() for part in (get("COACH_MANAGER_IDS") or "").split(",") if part.strip())
    bad = sorted(m for m in managers if not _USER_ID.match(m))
    if bad:
        problems.append(f"COACH_MANAGER_IDS must be Slack user ids like U0123ABCD, got {', '.join(bad)}")

    def parsed(name: str, parse: Callable[[str], T], default: T) -> T:
        raw = get(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except BadValue as error:
            problems.append(f"{name} {error}")
            return default

    rules = Rules(
        **{attr: number(env_name, getattr(DEFAULT_RULES, attr)) for attr, env_name in RULE_ENV.items()}
    )
    problems.extend(f"coaching rules: {problem}" for problem in rules.problems())
    team = TeamConfig(
        rules=rules,
        manager_ids=managers,
        manager_channel=parsed("COACH_MANAGER_CHANNEL", parse_channel, None),
        ops_channel=parsed("COACH_OPS_CHANNEL", parse_channel, None),
        digest_time=parsed("COACH_DIGEST_TIME", parse_send_time, time(8, 30)),
        digest_days=parsed("COACH_DIGEST_DAYS", parse_days, WORKDAYS),
        review_day=parsed("COACH_REVIEW_DAY", parse_weekday, 0),
    )

    hubspot_api_url = (get("HUBSPOT_API_URL") or HUBSPOT_API).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", hubspot_api_url):
        problems.append(f"HUBSPOT_API_URL must be an http(s) URL, got {hubspot_api_url!r}")
    hubspot_default_owner = get("HUBSPOT_DEFAULT_OWNER")
    if hubspot_default_owner and not _USER_ID.match(hubspot_default_owner):
        problems.append(
            f"HUBSPOT_DEFAULT_OWNER must be a Slack user id like U0123ABCD, got {hubspot_default_owner!r}"
        )
    retention = Retention(
        done_days=number("BATON_KEEP_DONE_DAYS", Retention.done_days, unit=" of days"),
        dead_days=number("BATON_KEEP_DEAD_DAYS", Retention.dead_days, unit=" of days"),
        notes_days=number("BATON_KEEP_NOTES_DAYS", Retention.notes_days, unit=" of days"),
        uninstall_grace_days=number(
            "BATON_UNINSTALL_GRACE_DAYS", Retention.uninstall_grace_days, unit=" of days"
        ),
    )
    problems.extend(
        f"BATON_KEEP_DONE_DAYS/BATON_KEEP_DEAD_DAYS/BATON_KEEP_NOTES_DAYS: {problem}"
        for problem in retention.problems()
    )

    secret_keys, key_problems = parse_keys(get(SECRET_KEY_ENV))
    problems.extend(key_problems)
    if get("SLACK_CLIENT_ID") and not secret_keys:
        problems.append(
            f"{SECRET_KEY_ENV} is missing (needed with SLACK_CLIENT_ID: each workspace's tokens are stored "
            "sealed; make a key with `python -m bot secrets new-key`)"
        )

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    if oauth and get("HUBSPOT_TOKEN"):
        problems.append(
            "HUBSPOT_TOKEN serves one workspace: the CRM sync can't be used with OAuth installs in many yet"
        )
    settings = Settings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        token_refresh_minutes=number("SLACK_TOKEN_REFRESH_MINUTES", 120, unit=" of minutes"),
        api_url=api_url,
        database_url=database_url,
        team=team,
        port=number("PORT", 3000),
        web_concurrency=number("WEB_CONCURRENCY", 2),
        listener_threads=number("BATON_LISTENER_THREADS", 32),
        db_connections=number("DATABASE_CONNECTIONS", 8),
        clock_processes=number("CLOCK_PROCESSES", 1),
        log_level=log_level,
        hubspot_token=get("HUBSPOT_TOKEN"),
        hubspot_api_url=hubspot_api_url,
        hubspot_default_owner=hubspot_default_owner,
        retention=retention,
        secret_keys=tuple(secret_keys),
    )
    if problems:
        raise ConfigError(problems)
    return settings
