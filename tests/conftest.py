"""Fixtures shared by every test: a clock you set, both databases, and the real app behind real HTTP.

The whole suite runs on SQLite; database-backed tests run again on PostgreSQL when
TEST_DATABASE_URL is set (`.ci/run` sets it when a server answers on 127.0.0.1:5432).
"""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from bot.app import Baton, create
from bot.config import Settings
from bot.localslack import Platform, Shown, SlackApi, User, Workspace
from bot.pool import ListenerPool
from bot.server import LocalServer, wsgi
from coaching.settings import TeamConfig
from handlers.outbox_leases import HELD
from store.db import Database, open_database
from store.migrate import upgrade
from store.models import Base, Outbox

# Slack sets these in some developer shells; with both present Bolt switches to OAuth mode.
for _name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"):
    os.environ.pop(_name, None)

PG_URL = os.environ.get("TEST_DATABASE_URL")
TEAM = "T0TEST"
DANA, SAM, MORGAN, KENJI = "U0DANA", "U0SAM", "U0MORGAN", "U0KENJI"
# Monday 23 November 2026, 10:00 in New York.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"


class Clock:
    """The app's idea of now; tests move it instead of waiting."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# ---- databases --------------------------------------------------------------------------------


def _backends() -> list[object]:
    postgres = pytest.param(
        "postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")
    )
    return ["sqlite", postgres]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "baton.db"
    db = open_database(f"sqlite:///{path}", pool_size=1)
    upgrade(db.engine)
    db.engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name("baton.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    assert PG_URL
    db = open_database(PG_URL, pool_size=1)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    db.engine.dispose()
    yield PG_URL


@pytest.fixture(params=_backends())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "baton.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = open_database(f"sqlite:///{path}", pool_size=20)
    else:
        db = open_database(request.getfixturevalue("postgres_ready"), pool_size=20)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    db.engine.dispose()


# ---- the app behind HTTP, and a stand-in Slack ------------------------------------------------------


def people() -> list[User]:
    return [
        User(DANA, "dana", "Dana Reyes", tz="America/New_York"),
        User(SAM, "sam", "Sam Okafor", tz="Europe/London"),
        User(MORGAN, "morgan", "Morgan Lee", tz="America/Chicago", is_admin=True),
        User(KENJI, "kenji", "Kenji Sato", tz="Asia/Tokyo"),
    ]


@dataclass
class Harness:
    """The real Baton over HTTP, a stand-in Slack, and helpers that read like what a person does."""

    api: SlackApi
    slack: Platform
    baton: Baton
    clock: Clock
    db: Database
    server: LocalServer
    sleeps: list[float] = field(default_factory=list)

    def command(self, user: str, command: str, text: str = "", *, channel: str = "C0GENERAL") -> Shown:
        """Run a slash command and return the newest message the person sees afterwards."""
        before = {m.id: m.version for m in self.api.seen_by(user)}
        reply = self.slack.command(user, command, text, channel_id=channel)
        assert reply.status == 200, reply.body
        return self._newest(user, before)

    def modal(self, user: str, command: str, text: str = "", *, channel: str = "C0GENERAL") -> dict[str, Any]:
        """Run a command that opens a modal, and return the modal the person now sees."""
        reply = self.slack.command(user, command, text, channel_id=channel)
        assert reply.status == 200, reply.body
        view = self.slack.open_modal(user)
        assert view is not None, f"no modal opened for {user}"
        return view

    def click(self, user: str, message: Shown, action_id: str, *, value: str | None = None) -> Shown:
        before = {m.id: m.version for m in self.api.seen_by(user)}
        reply = self.slack.click(user, message, action_id, value=value)
        assert reply.status == 200, reply.body
        return self._newest(user, before)

    def _newest(self, user: str, before: dict[int, int]) -> Shown:
        changed = [m for m in self.api.seen_by(user) if before.get(m.id) != m.version]
        assert changed, f"{user} saw nothing new"
        return changed[-1]

    def dms(self, user: str) -> list[Shown]:
        """What Baton has sent this person in their DMs with it, oldest first."""
        return [m for m in self.api.seen_by(user) if m.channel == "D" + user[1:]]

    def stop(self) -> None:
        self.server.stop()
        self.api.stop()
        self.baton.pool.shutdown(wait=True)

    def seen_text(self, message: Shown) -> str:
        """Everything a person reads in a message: the text of every block, buttons included."""
        return flatten(message.blocks) or message.text


def lapse_sending(db: Database) -> None:
    """As if every sender's lease on a message ran out long ago on the database's clock (a dead
    sender stops renewing them): the next sweep takes them over."""
    HELD.let_go_all()
    with db.sessions.begin() as session:
        session.execute(
            update(Outbox)
            .where(Outbox.status == "sending")
            .values(lease_until=datetime(2000, 1, 1, tzinfo=UTC))
        )


def flatten(blocks: list[dict[str, object]]) -> str:
    parts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                parts.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(parts)


def start_harness(
    db: Database,
    *,
    clock: Clock | None = None,
    config: TeamConfig | None = None,
    api: SlackApi | None = None,
    client_timeout: int = 10,
    pool: ListenerPool | None = None,
) -> Harness:
    """The real app on `db`, behind HTTP, talking to a stand-in Slack (a new one, or `api` to share one)."""
    clock = clock or Clock()
    if api is None:
        workspace = Workspace(team_id=TEAM, team_name="Test Team", users={u.id: u for u in people()})
        # Slack's clock is the test's: message timestamps and history's rate limit follow it.
        api = SlackApi(workspace, token=TOKEN, clock=lambda: clock.now.timestamp()).start()
    settings = Settings(
        bot_token=TOKEN,
        signing_secret=SECRET,
        api_url=api.url,
        team=config or TeamConfig(manager_ids=frozenset({MORGAN})),
        listener_threads=16,
    )
    sleeps: list[float] = []
    baton = create(
        settings, db=db, clock=clock, sleep=sleeps.append, client_timeout=client_timeout, pool=pool
    )
    server = LocalServer(wsgi(baton)).start()
    slack = Platform(api, server.url, SECRET, settle=baton.pool.wait_idle)
    return Harness(api, slack, baton, clock, db, server, sleeps)


@pytest.fixture
def harness(database: Database) -> Iterator[Harness]:
    h = start_harness(database)
    yield h
    h.stop()
    # Every test that used Slack also proves Baton kept Slack's contract the whole time.
    assert h.api.problems == [], h.api.problems
