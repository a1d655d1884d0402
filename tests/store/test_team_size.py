"""A big team gets its digests and reviews like a small one: no statement grows with the team.

PostgreSQL refuses a statement with an `IN (…)` list of thousands of (team, person, day) tuples
("stack depth limit exceeded"), so a 10,000-rep team got no digest at all. Claims now join
against the keys sent as one value, and take the same statements for 12,000 people as for 10.
"""

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update

from coaching.digest_records import STALE_CLAIM, Kind, Recipient, claim, share_of
from coaching.review_records import PICTURE_RETRY_AFTER, claim_pictures
from store.db import Database
from store.models import Delivery

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
BIG = 12_000


def _team(size: int, *, team: str = "T1") -> list[Recipient]:
    return [Recipient(team, f"U{i:07d}", "America/New_York", date(2026, 11, 23)) for i in range(size)]


@contextmanager
def _counted(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def _claim(
    database: Database, team: list[Recipient], *, owner: str, now: datetime = NOW, share: int | None = None
) -> list[Recipient]:
    with database.sessions.begin() as session:
        return claim(session, team, kind=Kind.DIGEST, now=now, owner=owner, share=share)


def test_every_rep_of_a_12000_rep_team_is_claimed_once_in_as_many_statements_as_for_10(
    database: Database,
) -> None:
    with _counted(database) as small:
        assert len(_claim(database, _team(10, team="T0SMALL"), owner="small")) == 10
    with _counted(database) as big:
        taken = _claim(database, _team(BIG), owner="first")
    assert len(taken) == BIG
    assert len(big) == len(small)
    assert max(len(s) for s in big) == max(len(s) for s in small)  # the text doesn't grow either
    assert _claim(database, _team(BIG), owner="second") == []  # a second clock process takes nobody
    with database.readers.begin() as session:
        owners = session.scalars(select(Delivery.owner).where(Delivery.team_id == "T1")).all()
    assert len(owners) == BIG and set(owners) == {"first"}


def test_a_12000_rep_morning_abandoned_by_a_dead_run_is_taken_over_whole(database: Database) -> None:
    _claim(database, _team(BIG), owner="died")
    later = NOW + STALE_CLAIM + timedelta(minutes=1)
    taken = _claim(database, _team(BIG), owner="next", now=later)
    assert len(taken) == BIG
    with database.readers.begin() as session:
        rows = session.execute(select(Delivery.owner, Delivery.attempts)).all()
    assert set(rows) == {("next", 2)}


def test_12000_managers_failed_pictures_are_tried_again(database: Database) -> None:
    team = _team(BIG)
    with database.sessions.begin() as session:
        assert len(claim_pictures(session, team, now=NOW, owner="first")) == BIG
        session.execute(update(Delivery).values(status="failed", finished_at=NOW))
    later = NOW + PICTURE_RETRY_AFTER + timedelta(minutes=1)
    with database.sessions.begin() as session:
        again = claim_pictures(session, team, now=later, owner="retry")
    assert len(again) == BIG
    with database.readers.begin() as session:
        assert set(session.execute(select(Delivery.status, Delivery.owner)).all()) == {("claimed", "retry")}


def test_three_clocks_split_a_12000_rep_morning_without_overlap_in_the_same_statements(
    database: Database,
) -> None:
    team = _team(BIG)
    share = share_of(len(team), 3)
    with _counted(database) as small:
        assert len(_claim(database, _team(10, team="T0SMALL"), owner="small", share=share_of(10, 3))) == 4
    shares = []
    for clock in ("first", "second", "third"):
        with _counted(database) as big:
            shares.append(
                _claim(database, team[::-1] if clock == "second" else team, owner=clock, share=share)
            )
        assert len(big) == len(small)
    assert [len(taken) for taken in shares] == [4_000, 4_000, 4_000]
    assert len({r.user_id for taken in shares for r in taken}) == BIG  # everyone once
    assert _claim(database, team, owner="fourth", share=share) == []  # nothing left to take


def _race(database: Database, orders: dict[str, list[Recipient]], share: int) -> dict[str, list[Recipient]]:
    """Clocks started together, each claiming a share at a time in its own order until none is left."""
    start = threading.Barrier(len(orders))
    taken: dict[str, list[Recipient]] = {owner: [] for owner in orders}
    failures: list[BaseException] = []

    def clock(owner: str) -> None:
        start.wait()
        try:
            while claimed := _claim(database, orders[owner], owner=owner, share=share):
                taken[owner] += claimed
        except BaseException as error:  # the test's thread: handed to the assertion below
            failures.append(error)

    threads = [threading.Thread(target=clock, args=(owner,)) for owner in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return taken


def test_two_clocks_claiming_on_the_same_tick_in_their_own_orders_never_deadlock(database: Database) -> None:
    """Clocks fire on the same tick and start their shares at different people (Deliveries
    shuffles who comes first). On PostgreSQL each INSERT then waited for the other's claims not
    yet committed, in another order, and one clock was killed as a deadlock: its share of the
    morning waited for the next tick (`bench/digest_scale.py --clocks 2`, 1,000 reps)."""
    for morning in range(3):  # the race is a matter of timing: a few mornings
        day = date(2026, 11, 23) + timedelta(days=morning)
        team = [Recipient("T1", f"U{i:07d}", "America/New_York", day) for i in range(2_000)]
        orders = {owner: random.Random(f"{owner}{morning}").sample(team, len(team)) for owner in ("a", "b")}
        taken = _race(database, orders, share_of(len(team), 2))
        assert sorted(r.user_id for r in taken["a"] + taken["b"]) == sorted(r.user_id for r in team)
