"""A workspace that uninstalls Baton: stopped at once, exportable during the grace period, deleted
whole after it (every table), picked up where it stopped if it comes back; the other workspace
sharing the database never notices."""

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_bolt import App, BoltContext
from sqlalchemy import func, select

from bot.app import deps_for
from bot.config import Settings
from bot.crm import run_export
from bot.installations import Installations
from bot.localslack import SlackApi, User, Workspace
from bot.retention import Tidy
from bot.scheduler import Jobs
from coaching import outbox as owed
from coaching.retention import Retention
from handlers.courier import Courier
from handlers.uninstall import Uninstall
from store.db import Database
from store.models import Base, Outbox, TeamStatus
from store.workspaces import team_tables
from tests.conftest import DANA, MORGAN, SAM, TEAM, TOKEN, Clock, Harness, start_harness
from tests.store.test_installations import CLIENT_ID, installation

OTHER = "T0OTHER"
MONDAY_MORNING_NY = datetime(2026, 11, 23, 13, 35, tzinfo=UTC)  # 08:35 in New York: Dana's digest is due
# Long enough that nothing of the other team is pruned by its own keeping times meanwhile.
KEEP = Retention(done_days=90, dead_days=90, uninstall_grace_days=30)
# Tables whose rows name no team: an OAuth state is one install attempt's, consumed once, gone in minutes.
NO_TEAM = frozenset({"slack_oauth_states"})


def seed(h: Harness) -> None:
    """A week before: a lead, a voicemail with a note, a manager added: the follow-up is due Monday."""
    h.clock.now = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    h.command(DANA, "/lead", "add Acme Corp")
    h.command(DANA, "/logcall", "acme vm left a message about pricing")
    h.command(MORGAN, "/coach", f"managers add <@{SAM}|sam>")


def uninstall(h: Harness, event: str = "app_uninstalled", **fields: object) -> None:
    assert h.slack.event({"type": event, **fields}).status == 200


def rows_of(db: Database, team_id: str) -> dict[str, int]:
    """How many rows the team has in each table that has any."""
    found = {}
    with db.readers.begin() as session:
        for table in team_tables():
            n = session.scalar(select(func.count()).select_from(table).where(table.c.team_id == team_id))
            if n:
                found[table.name] = int(n or 0)
    return found


def stopped(db: Database, team_id: str) -> TeamStatus | None:
    with db.readers.begin() as session:
        return session.get(TeamStatus, team_id)


@pytest.fixture
def other(harness: Harness) -> Iterator[Harness]:
    """A second workspace, with its own Slack and its own Baton, on the same database and clock."""
    users = {u: User(u, u.lower(), u.title(), tz="America/New_York") for u in ("U0OLGA", "U0OTTO")}
    api = SlackApi(
        Workspace(team_id=OTHER, team_name="Other", users=users),
        token=TOKEN,
        clock=lambda: harness.clock.now.timestamp(),
    ).start()
    h = start_harness(harness.db, clock=harness.clock, api=api)
    yield h
    h.stop()


def test_every_table_that_holds_a_teams_rows_is_deleted_by_team() -> None:
    """A new table either carries team_id (and the deletion after an uninstall finds it) or is named here."""
    for table in Base.metadata.sorted_tables:
        assert "team_id" in table.c or table.name in NO_TEAM, (
            f"{table.name} has no team_id: add it or say why"
        )
    assert {t.name for t in team_tables()} == {t.name for t in Base.metadata.sorted_tables} - NO_TEAM
    assert team_tables()[-1] is TeamStatus.__table__  # the status goes last: till then, the deletion resumes


def test_an_uninstalled_workspace_stops_at_once_and_owes_nothing_any_more(harness: Harness) -> None:
    seed(harness)
    harness.clock.now = MONDAY_MORNING_NY - timedelta(hours=1)
    with harness.baton.deps.bookkeeping() as session:
        owed_id = owed.owe(
            session, team_id=TEAM, method="post", channel=DANA, payload={"text": "owed"}, now=harness.clock()
        )
    uninstall(harness)
    harness.api.token = "xoxb-revoked"  # Slack revoked the token with the uninstall: it works no more

    status = stopped(harness.db, TEAM)
    assert status is not None and status.reason == "app_uninstalled"
    assert status.delete_after == harness.clock() + timedelta(days=30)
    with harness.db.readers.begin() as session:
        assert session.get(Outbox, owed_id).status == "cancelled"  # type: ignore[union-attr]
    bookmark = harness.api.mark_seen()
    harness.clock.now = MONDAY_MORNING_NY
    jobs = Jobs(harness.baton)
    jobs.tick()  # digests, reviews, hand-off reminders
    jobs.outbox()
    assert harness.api.since(bookmark) == []  # not one call to Slack for the stopped workspace


def test_a_message_owed_after_the_uninstall_is_cancelled_not_sent(harness: Harness) -> None:
    seed(harness)
    uninstall(harness, "tokens_revoked", tokens={"oauth": [], "bot": ["B0BATON"]})
    with harness.baton.deps.bookkeeping() as session:
        late = owed.owe(
            session, team_id=TEAM, method="post", channel=DANA, payload={"text": "x"}, now=harness.clock()
        )
    bookmark = harness.api.mark_seen()
    report = Courier(harness.baton.deps, harness.baton.client).send([late])
    assert report.sent == 0 and harness.api.since(bookmark) == []
    with harness.db.readers.begin() as session:
        assert session.get(Outbox, late).status == "cancelled"  # type: ignore[union-attr]


def test_revoking_only_peoples_tokens_leaves_the_workspace_running(harness: Harness) -> None:
    seed(harness)
    uninstall(harness, "tokens_revoked", tokens={"oauth": [DANA], "bot": []})
    assert stopped(harness.db, TEAM) is None


def test_after_the_grace_period_every_row_of_the_uninstalled_workspace_goes_and_the_other_keeps_all(
    harness: Harness, other: Harness
) -> None:
    seed(harness)
    other.command("U0OLGA", "/lead", "add Initech")
    other.command("U0OLGA", "/logcall", "initech connected talked about the renewal")
    theirs = rows_of(harness.db, OTHER)
    ours = rows_of(harness.db, TEAM)
    assert {"lead", "touch", "rep", "manager", "inbox", "outbox"} <= set(ours)

    uninstall(harness)
    tidy = Tidy(harness.db, harness.clock, KEEP, batch=2)  # small batches: many short transactions
    harness.clock.advance(days=29)
    tidy.run()
    assert rows_of(harness.db, TEAM).keys() >= ours.keys()  # within the grace period: all still there
    exported = io.StringIO()
    assert run_export(harness.db, team_id=TEAM, touches=True, out=exported) == 0
    assert "left a message about pricing" in exported.getvalue()  # the export works meanwhile

    harness.clock.advance(days=1, minutes=1)
    done = tidy.tidy(most_batches=1_000)
    assert done.teams == 1 and done.deleted >= sum(ours.values())
    assert rows_of(harness.db, TEAM) == {}
    assert stopped(harness.db, TEAM) is None
    assert rows_of(harness.db, OTHER) == theirs  # the other workspace: not one row less
    reply = other.command("U0OLGA", "/pipeline")
    assert "Initech" in reply.text or "Initech" in other.seen_text(reply)


def test_a_tidy_run_that_stops_part_way_is_finished_by_the_next(harness: Harness) -> None:
    seed(harness)
    uninstall(harness)
    harness.clock.advance(days=31)
    tidy = Tidy(harness.db, harness.clock, KEEP, batch=1)
    first = tidy.tidy(most_batches=3)
    assert first.deleted == 3 and first.teams == 0 and stopped(harness.db, TEAM) is not None
    tidy.tidy(most_batches=1_000)
    assert rows_of(harness.db, TEAM) == {}


def test_a_reinstall_within_the_grace_period_picks_up_where_it_stopped(harness: Harness) -> None:
    seed(harness)
    uninstall(harness)
    harness.clock.advance(days=3)
    # Installed again: a working token, and Baton started with it (single-workspace mode).
    again = start_harness(harness.db, clock=harness.clock, api=harness.api)
    try:
        assert stopped(again.db, TEAM) is None
        Tidy(again.db, again.clock, KEEP).run()  # the grace period would have ended meanwhile
        again.clock.advance(days=30)
        Tidy(again.db, again.clock, KEEP).run()
        reply = again.command(DANA, "/pipeline")
        assert "Acme Corp" in again.seen_text(reply)
    finally:
        again.stop()


def test_a_new_installation_of_an_uninstalled_workspace_clears_its_stop(harness: Harness) -> None:
    seed(harness)
    uninstall(harness)
    kept = Installations(harness.db, CLIENT_ID)
    kept.store.save(installation("T0ELSE", "xoxb-else"))  # another workspace installing changes nothing
    assert stopped(harness.db, TEAM) is not None
    kept.store.save(installation(TEAM, "xoxb-new-token"))  # the OAuth flow's save, on a reinstall
    assert stopped(harness.db, TEAM) is None


def test_with_installations_kept_the_uninstall_deletes_them_at_once_and_only_that_workspaces(
    database: Database,
) -> None:
    """OAuth mode: Bolt's revocation listeners delete the installation, the status is written beside it."""
    kept = Installations(database, CLIENT_ID)
    kept.store.save(installation(TEAM, "xoxb-ours"))
    kept.store.save(installation(OTHER, "xoxb-theirs"))
    app = App(signing_secret="s" * 32, installation_store=kept.store, request_verification_enabled=False)
    clock = Clock()
    listeners = Uninstall(deps_for(Settings(), database, clock=clock), app)

    listeners.tokens_revoked({"tokens": {"oauth": ["U0FIRST"], "bot": []}}, BoltContext(team_id=OTHER))
    assert kept.is_installed(OTHER) and stopped(database, OTHER) is None  # a person's token: nothing stops

    listeners.app_uninstalled(BoltContext(team_id=TEAM, enterprise_id=None))
    assert kept.installed_teams() == [OTHER]
    status = stopped(database, TEAM)
    assert status is not None and status.delete_after == clock() + timedelta(days=30)
