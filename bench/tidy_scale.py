"""How long the tidy holds the database's write lock while it blanks old notes and deletes an
uninstalled workspace. A benchmark, not a test.

    python bench/tidy_scale.py [--touches 200000] [--database-url URL]

Two workspaces of the same size share the database: each has `--touches` touches (a note on
every one, logged over two years, so about half are past the default 365 days) on a lead per 20
touches, with contacts, status changes and inbox/outbox rows. One uninstalled Baton 31 days ago.
The tidy then blanks the old notes of both and deletes the uninstalled one, batch by batch, as
every web process does; each batch is its own transaction, and its duration is how long SQLite's
one write lock is held (an acknowledgement's write waits at most that long). Prints the batches,
the longest and the median hold, and the CPU seconds of the whole pass. The database is emptied first.
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from coaching import workspaces  # noqa: E402
from coaching.retention import BATCH, Retention, blank_old_notes  # noqa: E402
from store.db import Database, open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Base, Contact, Inbox, Lead, Outbox, StatusChange, Touch  # noqa: E402
from store.workspaces import team_tables  # noqa: E402

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
GONE, STAYS = "T0GONE", "T0STAYS"
PER_LEAD = 20


def empty(db: Database) -> None:
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def seed(db: Database, team_id: str, touches: int) -> None:
    leads = touches // PER_LEAD
    span = timedelta(days=730)
    with db.engine.begin() as connection:
        first = connection.execute(select(func.coalesce(func.max(Lead.id), 0))).scalar_one() + 1
        connection.execute(
            insert(Lead),
            [
                {
                    "id": first + n,
                    "team_id": team_id,
                    "name": f"Company {n}",
                    "name_key": f"company {n}",
                    "owner_id": f"U0REP{n % 20:03}",
                    "created_by": "U0REP000",
                    "created_at": NOW - span,
                }
                for n in range(leads)
            ],
        )
        connection.execute(
            insert(Contact),
            [
                {
                    "team_id": team_id,
                    "lead_id": first + n,
                    "name": f"Pat {n}",
                    "added_by": "U0REP000",
                    "added_at": NOW,
                }
                for n in range(leads)
            ],
        )
        connection.execute(
            insert(StatusChange),
            [
                {
                    "team_id": team_id,
                    "lead_id": first + n,
                    "owner_id": "U0REP000",
                    "by": "U0REP000",
                    "status": "won",
                    "at": NOW,
                }
                for n in range(0, leads, 10)
            ],
        )
        for start in range(0, touches, 50_000):
            connection.execute(
                insert(Touch),
                [
                    {
                        "team_id": team_id,
                        "lead_id": first + n // PER_LEAD,
                        "user_id": f"U0REP{n % 20:03}",
                        "outcome": "voicemail",
                        "at": NOW - span * (1 - n / touches),
                        "logged_at": NOW - span * (1 - n / touches),
                        "note": f"left a message about the renewal, call {n}",
                    }
                    for n in range(start, min(touches, start + 50_000))
                ],
            )
        connection.execute(
            insert(Inbox),
            [
                {
                    "key": f"{team_id}-{n}",
                    "team_id": team_id,
                    "user_id": "U0REP000",
                    "kind": "command",
                    "body": "{}",
                    "received_at": NOW,
                    "done_at": NOW,
                    "outcome": "done",
                }
                for n in range(touches // 10)
            ],
        )
        connection.execute(
            insert(Outbox),
            [
                {
                    "team_id": team_id,
                    "method": "post",
                    "channel": "U0REP000",
                    "payload": "{}",
                    "status": "sent",
                    "next_attempt_at": NOW,
                    "created_at": NOW,
                    "finished_at": NOW,
                }
                for n in range(touches // 10)
            ],
        )


def timed_batches(db: Database, batch: object) -> list[tuple[float, float]]:
    """Each transaction's (wall, CPU) seconds: the wall time is how long the lock was held, the CPU
    time what it cost, whatever else the machine was doing meanwhile."""
    holds = []
    while True:
        started, cpu = time.perf_counter(), time.process_time()
        with db.sessions.begin() as session:
            done = batch(session)  # type: ignore[operator]
        holds.append((time.perf_counter() - started, time.process_time() - cpu))
        if not done:
            return holds


def report(name: str, holds: list[tuple[float, float]], rows: int) -> None:
    wall, cpu = [w * 1000 for w, _ in holds], [c * 1000 for _, c in holds]
    print(
        f"{name:<30} {rows:>8,} rows in {len(holds):>4,} transactions; lock held median "
        f"{statistics.median(wall):5.1f} ms (CPU {statistics.median(cpu):5.1f}), longest {max(wall):6.1f} ms "
        f"(CPU {max(cpu):6.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touches", type=int, default=200_000, help="touches per workspace")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(args.database_url or f"sqlite:///{Path(tmp) / 'tidy.db'}", pool_size=2)
        upgrade(db.engine)
        empty(db)
        for team in (GONE, STAYS):
            seed(db, team, args.touches)
        with db.sessions.begin() as session:
            workspaces.uninstall(
                session,
                team_id=GONE,
                now=NOW - timedelta(days=31),
                grace=timedelta(days=30),
                reason="app_uninstalled",
            )
        print(
            f"{db.engine.dialect.name}: two workspaces of {args.touches:,} touches each; batches of {BATCH}"
        )
        cpu = time.process_time()
        blanked = 0

        def blank(session: object) -> int:
            nonlocal blanked
            gone = blank_old_notes(session, now=NOW, keep=Retention())  # type: ignore[arg-type]
            blanked += gone
            return gone

        report("notes past 365 days blanked", timed_batches(db, blank), blanked)
        deleted, table = 0, 0

        def forget(session: object) -> int:
            nonlocal deleted, table
            step = workspaces.forget_some(session, team_id=GONE, now=NOW, table=table, limit=BATCH)  # type: ignore[arg-type]
            deleted += step.deleted
            table = step.table
            return 0 if step.finished or step.stopped else 1

        report("uninstalled workspace deleted", timed_batches(db, forget), deleted)
        print(f"CPU for the whole tidy: {time.process_time() - cpu:.1f} s")
        nothing = timed_batches(db, blank)
        print(
            f"A later pass with no note due: {nothing[0][0] * 1000:.2f} ms (CPU {nothing[0][1] * 1000:.2f})"
        )
        with db.readers.begin() as session:
            left = {
                t.name: session.scalar(select(func.count()).select_from(t).where(t.c.team_id == GONE))
                for t in team_tables()
            }
            stays = session.scalar(select(func.count()).select_from(Touch).where(Touch.team_id == STAYS))
        assert not any(left.values()), left
        print(f"Left of {GONE}: nothing; {STAYS} keeps its {stays:,} touches")
        db.engine.dispose()


if __name__ == "__main__":
    main()
