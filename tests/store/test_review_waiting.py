"""The review's "what is waiting", counted by the database, is exactly what reading every open lead
on its owner's calendar gives (`digest_contents.review_for`), on SQLite and PostgreSQL."""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from coaching.calendar import local_date
from coaching.digest_contents import Review, review_for
from coaching.digest_records import Recipient, calendars
from coaching.review import day_start
from coaching.review_records import weekly_reviews
from coaching.rules import Rules, untouched_since
from coaching.settings import TeamConfig, team_config
from coaching.snapshots import lead_from_row
from store import queries
from store.db import Database
from store.models import Lead, Rep

# Sunday 1 March 2026, 03:30 UTC: still Saturday in the Americas, Sunday in Asia and Europe, a week
# before Havana's clocks skip its midnight.
NOW = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",  # +05:30
    "Pacific/Chatham",  # +13:45
    "America/Havana",  # its spring change skips midnight
    "Europe/London",
    "Not/AZone",  # read as UTC
)
RULES = Rules()


def instants(rng: random.Random, tz: ZoneInfo, today: date) -> list[datetime]:
    """Times around every boundary a count turns on, to the microsecond, and some anywhere."""
    near = []
    for days in (RULES.sales_cycle_days, RULES.stall_days, RULES.squat_days, 0, 1):
        start = day_start(today - timedelta(days=days), tz)
        near += [start, start - timedelta(microseconds=1), start + timedelta(hours=rng.randint(1, 23))]
    anywhere = [NOW - timedelta(minutes=rng.randint(0, 200 * 24 * 60)) for _ in range(10)]
    return near + anywhere


def seed(db: Database, rng: random.Random) -> None:
    with db.sessions.begin() as session:
        reps = []
        for team in ("T1", "T2"):
            for i, tz in enumerate(ZONES):
                reps.append(
                    Rep(
                        team_id=team,
                        user_id=f"U{team}{i}",
                        name=f"Rep {i}",
                        tz=tz,
                        deactivated=i == 2,  # someone in Tokyo left
                        workdays="sun-thu" if i == 3 else None,
                        refreshed_at=NOW,
                    )
                )
            reps.append(
                Rep(team_id=team, user_id=f"M{team}", name="Boss", tz="Europe/Berlin", refreshed_at=NOW)
            )
        session.add_all(reps)
        n = 0
        for team in ("T1", "T2"):
            # the last owner has no profile: read on the review's calendar
            for owner, tz in [(f"U{team}{i}", tz) for i, tz in enumerate(ZONES)] + [
                (f"X{team}", "Europe/Berlin")
            ]:
                where = ZoneInfo(tz) if "/" in tz and tz != "Not/AZone" else ZoneInfo("UTC")
                today = local_date(NOW, where)
                times = instants(rng, where, today)
                for _ in range(60):
                    n += 1
                    created = rng.choice(times)
                    touched = rng.choice([None, *times])
                    session.add(
                        Lead(
                            team_id=team,
                            name=f"Lead {n:04d}",
                            name_key=f"lead {n:04d}",
                            owner_id=owner,
                            created_by=owner,
                            status=rng.choice(["open"] * 6 + ["won", "lost", "backburner"]),
                            created_at=created,
                            opted_out_at=NOW if rng.random() < 0.1 else None,
                            counting_since=rng.choice([None, None, *times]),
                            attempts=rng.randint(0, 13),
                            reached=rng.random() < 0.3,
                            last_touch_at=touched,
                            last_contact_at=rng.choice([None, *times]),
                            next_follow_up=rng.choice([None, today + timedelta(days=rng.randint(-3, 3))]),
                            meeting_on=rng.choice([None, None, today + timedelta(days=rng.randint(0, 4))]),
                            declined=rng.random() < 0.1,
                        )
                    )


def sat_on_by_another_zones_clock(db: Database) -> None:
    """An owner in the zone whose squatting window ends first, with leads left alone since just
    before the other zones' ends: none is sat on where the owner is."""
    ends = {
        tz: day_start(local_date(NOW, ZoneInfo(tz)) - timedelta(days=RULES.squat_days), ZoneInfo(tz))
        for tz in ZONES[:-1]
    }
    first = min(ends, key=lambda tz: ends[tz])
    with db.sessions.begin() as session:
        session.add(Rep(team_id="T1", user_id="YT1", name="Early", tz=first, refreshed_at=NOW))
        for i, end in enumerate(sorted(set(ends.values()) - {ends[first]})):
            touched = end - timedelta(microseconds=1)
            session.add(
                Lead(
                    team_id="T1",
                    name=f"Early {i}",
                    name_key=f"early {i}",
                    owner_id="YT1",
                    created_by="YT1",
                    status="open",
                    created_at=touched - timedelta(days=1),
                    last_touch_at=touched,
                )
            )


def recipients() -> list[Recipient]:
    return [
        Recipient("T1", "MT1", "Europe/Berlin", local_date(NOW, ZoneInfo("Europe/Berlin"))),
        Recipient(
            "T2",
            "MT2",
            "America/New_York",
            local_date(NOW, ZoneInfo("America/New_York")),
            frozenset({6, 0, 1, 2, 3}),
        ),
    ]


def read_lead_by_lead(db: Database, recipient: Recipient) -> Review:
    """The rule itself over every open lead, those sat on longest ranked by when, then by id."""
    with db.readers.begin() as session:
        config = team_config(session, team_id=recipient.team_id, defaults=TeamConfig())
        leads = sorted(
            (
                lead_from_row(row)
                for row in queries.digests.nudge_leads(session, team_ids=[recipient.team_id], customers=False)
            ),
            key=lambda lead: (untouched_since(lead), lead.id),
        )
        return review_for(
            [(lead.owner_id, lead) for lead in leads],
            departed=frozenset(
                u for _, u in queries.people.departed_reps(session, team_ids=[recipient.team_id])
            ),
            now=NOW,
            today=recipient.local_date,
            rules=config.rules,
            days_of=calendars(session, recipient.team_id, team_days=config.digest_days),
            default_days=recipient.days,
        )


@pytest.mark.parametrize("draw", range(3))
def test_what_is_waiting_is_each_open_lead_read_on_its_owners_calendar(database: Database, draw: int) -> None:
    seed(database, random.Random(draw))
    sat_on_by_another_zones_clock(database)
    with database.readers.begin() as session:
        jobs = weekly_reviews(session, recipients(), now=NOW, defaults=TeamConfig())
    for job in jobs:
        expected = read_lead_by_lead(database, job.recipient)
        assert job.review.waiting == expected
        assert expected.reps and expected.orphaned  # the draw exercises every part
        assert any(line.squatting for line in expected.reps)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/Havana", date(2026, 3, 8)),  # midnight skipped: the day starts at 01:00
        ("America/Santiago", date(2026, 9, 6)),  # likewise
        ("America/Santiago", date(2026, 4, 5)),  # Saturday's last hour repeated
        ("Pacific/Chatham", date(2026, 4, 5)),
        ("Asia/Kolkata", date(2026, 3, 1)),
    ],
)
def test_a_day_starts_at_its_first_instant_there(zone: str, day: date) -> None:
    tz = ZoneInfo(zone)
    start = day_start(day, tz)
    assert start.tzinfo is UTC
    assert local_date(start, tz) == day
    assert local_date(start - timedelta(microseconds=1), tz) < day
    assert start <= datetime.combine(day, time(1), tzinfo=tz)
