"""Exactly one digest per working day, for any digest time Baton accepts, any time zone and any
working days: the clock's five-minute ticks against the real claims in the database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from coaching.calendar import LATEST_SEND_TIME, is_working_day, workdays_text
from coaching.digest_records import Kind, claim, due_digests
from coaching.outbox import queue_delivery
from coaching.settings import TeamConfig
from store.db import Database
from store.models import Delivery, Lead, Rep

FRIDAY = datetime(2026, 3, 6, 0, 0, tzinfo=UTC)  # New York and Berlin change their clocks within 3 weeks
DAYS = 4  # Friday to Monday, in UTC
TICK = timedelta(minutes=5)
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Kathmandu", "Pacific/Auckland", "America/Los_Angeles"]


def _seed(database: Database, zone: str, workdays: frozenset[int]) -> None:
    with database.sessions.begin() as session:
        session.execute(delete(Delivery))
        session.execute(delete(Lead))
        session.execute(delete(Rep))
        session.add(
            Rep(
                team_id="T1",
                user_id="U1",
                name="Dana",
                tz=zone,
                workdays=workdays_text(workdays),
                refreshed_at=FRIDAY,
            )
        )
        session.add(
            Lead(
                team_id="T1", name="Acme", name_key="acme", owner_id="U1", created_by="U1", created_at=FRIDAY
            )
        )


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    minutes=st.integers(0, LATEST_SEND_TIME.hour * 60),
    zone=st.sampled_from(ZONES),
    workdays=st.frozensets(st.integers(0, 6), min_size=1),
    weeks=st.integers(0, 3),
)
def test_exactly_one_digest_per_working_day_for_any_digest_time(
    database: Database, minutes: int, zone: str, workdays: frozenset[int], weeks: int
) -> None:
    _seed(database, zone, workdays)
    config = TeamConfig(digest_time=time(minutes // 60, minutes % 60))
    start = FRIDAY + timedelta(weeks=weeks)
    end = start + timedelta(days=DAYS)
    claimed: list[date] = []
    tick = start
    while tick < end:
        with database.readers.begin() as session:
            due = due_digests(session, now=tick, defaults=config)
        if due:
            with database.sessions.begin() as session:
                taken = claim(session, due, kind=Kind.DIGEST, now=tick, owner="clock")
                for r in taken:  # handed to the outbox, as the deliveries do straight after
                    queue_delivery(
                        session,
                        owner="clock",
                        team_id=r.team_id,
                        user_id=r.user_id,
                        kind=Kind.DIGEST.value,
                        local_date=r.local_date,
                        now=tick,
                        empty=True,
                    )
                claimed += [r.local_date for r in taken]
        tick += TICK
    tz = ZoneInfo(zone)
    first, last = (
        start.astimezone(tz).date() + timedelta(days=1),
        end.astimezone(tz).date() - timedelta(days=1),
    )
    whole_days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    inside = [d for d in claimed if first <= d <= last]
    assert inside == [d for d in whole_days if is_working_day(d, workdays)]
    assert len(claimed) == len(set(claimed))  # never twice the same day
