"""The weekly review's figures from a scripted week of real touches, on SQLite and PostgreSQL."""

import importlib
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, text

from coaching import transfers
from coaching.caller import Caller
from coaching.digest_records import Recipient
from coaching.lead_commands import lead_command
from coaching.people import Profile, remember
from coaching.review import Advice, Figures
from coaching.review_records import weekly_reviews
from coaching.settings import TeamConfig
from coaching.touches import log_from_text
from store import queries
from store.db import Database
from tests.conftest import DANA, MORGAN, NOW, SAM, TEAM

NY = ZoneInfo("America/New_York")
REVIEW_DAY = date(2026, 11, 30)  # Monday: last week is Mon 23 (NOW) to Sun 29 November


def as_(user: str, days: int, *, manager: bool = False) -> Caller:
    return Caller(TEAM, user, manager, NOW + timedelta(days=days), NY, TeamConfig())


def do(db: Database, who: Caller, *lines: str) -> None:
    for line in lines:
        with db.sessions.begin() as session:
            command, _, text = line.partition(" ")
            if command == "/lead":
                lead_command(session, who, text)
            else:
                log_from_text(session, who, text)


def script(db: Database) -> None:
    with db.sessions.begin() as session:
        for user in (DANA, SAM, MORGAN):
            remember(session, team_id=TEAM, profile=Profile(user, user, "America/New_York"), now=NOW)
    do(db, as_(SAM, -5), "/lead add Umbrella", "/logcall Umbrella")  # the week before
    do(db, as_(DANA, -4), "/lead add Globex")  # its follow-up is due Thursday 19th
    do(db, as_(DANA, 0), "/lead add Acme", "/logcall Acme voicemail", "/logcall Globex connected")
    do(db, as_(DANA, 1), "/lead add Initech", "/logcall Initech meeting 2026-12-02", "/lead add Hooli")
    do(db, as_(DANA, 1), "/logcall Hooli voicemail")
    do(db, as_(DANA, 2), "/logcall Hooli no-answer")
    do(db, as_(DANA, 3), "/logcall Hooli connected", "/logcall Acme email")
    with db.sessions.begin() as session:
        initech = queries.leads.lead_by_key(session, team_id=TEAM, key="initech")
        assert initech is not None
        transfers.request_transfer(
            session, as_(MORGAN, 3, manager=True), lead=initech, to_user=SAM, reason=""
        )
    do(db, as_(DANA, 4), "/lead won Acme", "/lead backburner Globex")
    do(db, as_(DANA, 8), "/logcall Hooli email")  # this week: not in the review


def review(db: Database) -> object:
    with db.readers.begin() as session:
        [job] = weekly_reviews(
            session,
            [Recipient(TEAM, MORGAN, "America/New_York", REVIEW_DAY)],
            now=NOW + timedelta(days=7),
            defaults=TeamConfig(),
        )
    return job.review


def test_a_scripted_week_gives_exact_figures(database: Database) -> None:
    script(database)
    weekly = review(database)
    week = weekly.week  # type: ignore[attr-defined]
    assert week.days == tuple(date(2026, 11, 23) + timedelta(days=i) for i in range(7))
    assert week.rep(DANA).week == Figures(
        calls=4,  # Globex connected, Initech's booking call, Hooli's no-answer and connected
        voicemails=2,
        emails=1,
        conversations=3,
        meetings_booked=1,
        won=1,
        parked=1,
        handoffs_out=1,
        on_time=6,
        late=1,  # Globex, due Thursday 19th, done Monday 23rd
        late_days=2,
    )
    assert week.rep(SAM).week == Figures(handoffs_in=1)
    assert week.rep(SAM).before == Figures(calls=1, on_time=1)
    assert week.week == week.rep(DANA).week + week.rep(SAM).week
    assert week.daily[0] == (1, 1, 0, 0, 0)  # Monday: the Globex call and Acme's voicemail


def test_the_attempt_curve_counts_the_attempt_of_first_contact(database: Database) -> None:
    script(database)
    curve = review(database).curve  # type: ignore[attr-defined]
    # Globex and Initech answered the first try, Hooli the third
    assert curve.reached == 3
    assert [round(s, 2) for s in curve.shares[:3]] == [0.67, 0.67, 1.0]
    assert curve.advice is Advice.NOT_ENOUGH
    assert "only 3 leads have been reached so far" in curve.reason


def test_the_statements_do_not_grow_with_the_number_of_managers(database: Database) -> None:
    script(database)
    counted: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: counted.append(args[2]))
    zones = ["America/New_York", "Europe/London", "Asia/Tokyo"]
    for managers in (1, 30):
        counted.clear()
        with database.readers.begin() as session:
            jobs = weekly_reviews(
                session,
                [Recipient(TEAM, f"U{i:05d}", zones[i % 3], REVIEW_DAY) for i in range(managers)],
                now=NOW + timedelta(days=7),
                defaults=TeamConfig(),
            )
        assert len(jobs) == managers
        if managers == 1:
            few = len(counted)
    assert len(counted) == few


def test_the_migration_fills_in_first_contacts_as_logging_does(database: Database) -> None:
    """Leads from before the lead row kept its first contact get the same curve once migrated."""
    script(database)
    logged = review(database).curve  # type: ignore[attr-defined]
    migration = importlib.import_module("store.migrations.versions.0021_first_contact")
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE lead SET first_contact_at = NULL, first_contact_tries = NULL"))
    assert review(database).curve.reached == 0  # type: ignore[attr-defined]
    with database.engine.begin() as connection:
        migration.backfill(lambda sql: connection.execute(text(sql)))
    assert review(database).curve == logged  # type: ignore[attr-defined]


def test_managers_in_many_time_zones_each_get_their_own_week(database: Database) -> None:
    """The fortnight is read once for every manager: each one's week is what they get alone."""
    script(database)
    zones = ["America/New_York", "Asia/Tokyo", "Pacific/Chatham", "America/Los_Angeles", "Asia/Kolkata"]
    managers = [Recipient(TEAM, f"U{i:05d}", tz, REVIEW_DAY) for i, tz in enumerate(zones)]
    at = NOW + timedelta(days=7)
    with database.readers.begin() as session:
        together = weekly_reviews(session, managers, now=at, defaults=TeamConfig())
        alone = [weekly_reviews(session, [m], now=at, defaults=TeamConfig())[0] for m in managers]
    assert [job.review for job in together] == [job.review for job in alone]
    assert len({job.review.week for job in together}) > 1  # the zones do place touches differently
