"""How the morning digest and the managers' weekly review scale. A benchmark, not a test.

    python bench/digest_scale.py [--reps 1000] [--leads 100000] [--touches 1000000] [--managers 50]
                                 [--database-url URL] [--reuse] [--clocks N]

Seeds one team of reps spread over six time zones, with leads in every state and their touches,
then times what the clock does each morning: work out who is due, claim each digest in the
database, and compute every digest. Prints the time, the peak memory the computation allocated,
and the number of SQL statements, for the full team and for a tenth of it: the statement count
must not grow with the number of reps (no query per rep or per lead).

Then the weekly review: every manager's review (last week's figures, the attempt curve, what is
waiting) computed and built as Block Kit, with its statements, time and peak memory, and the
slowest of the review pictures drawn (one per team, day and time zone).

With `--clocks N` the full team's morning is also split across N processes started together, each
claiming its share as N clock processes do (CLOCK_PROCESSES=N): each one's time, CPU, peak
resident memory and statements, and when the last finished.

Seeding ten million touches takes many minutes: with `--reuse` the seeded database is kept (give
it a `--database-url`; SQLite files too) and seeded again only when it holds another size, and
only the full size is measured (run the smaller size separately to compare statements).
"""

import argparse
import importlib
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

from coaching import digest_records  # noqa: E402
from coaching.digest_records import Kind  # noqa: E402
from coaching.review_records import WeeklyReview, weekly_reviews  # noqa: E402
from coaching.settings import TeamConfig  # noqa: E402
from handlers.blocks.review import weekly_review  # noqa: E402
from handlers.review_chart import alt_text, review_png  # noqa: E402
from store import queries  # noqa: E402
from store.db import Database, open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402

TEAM = "T0SCALE"
ZONES = [
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
]
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday


def seeded(db: Database) -> tuple[int, int, int] | None:
    """The (reps, leads, touches) this database was last seeded with by this script, if any."""
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS bench_seed (reps INT, leads INT, touches INT)"))
        row = connection.execute(text("SELECT reps, leads, touches FROM bench_seed")).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


def seed(db: Database, reps: int, leads: int, touches: int) -> None:
    """Bulk rows through the driver (the ORM would take minutes for a million touches)."""
    seeded(db)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM bench_seed"))  # half-seeded is not seeded
    rng = random.Random(11)
    with db.engine.begin() as connection:
        for table in (
            "outbox",
            "delivery",
            "status_change",
            "touch",
            "contact",
            "transfer_request",
            "ops_handoff",
            "lead",
            "rep",
        ):
            connection.execute(text(f"DELETE FROM {table}"))
    reps_rows = [(TEAM, f"U{i:07d}", f"Rep {i}", ZONES[i % len(ZONES)], NOW) for i in range(reps)]
    managers = [(TEAM, m, f"Manager {i}", ZONES[i % len(ZONES)], NOW) for i, m in enumerate(MANAGERS)]
    lead_rows = []
    for i in range(leads):
        owner = reps_rows[i % reps][1]
        kind = i % 10
        created = NOW - timedelta(days=rng.randint(1, 200))
        last_touch = NOW - timedelta(days=rng.randint(0, 60))
        follow_up = (NOW + timedelta(days=rng.randint(-10, 10))).date()
        lead_rows.append(
            (
                TEAM,
                f"Company {i:06d}",
                f"company {i:06d}",
                owner,
                owner,
                "won" if kind == 9 else "backburner" if kind == 8 else "open",
                created,
                NOW - timedelta(days=1) if kind == 7 else None,  # some opted out
                rng.randint(0, 12),
                kind in (2, 3),
                kind in (2, 3, 9),
                last_touch,
                last_touch if kind in (2, 3) else None,
                None if kind == 9 else follow_up,
                (NOW + timedelta(days=1)).date() if kind == 4 else None,
            )
        )
    with db.engine.begin() as connection:
        raw = connection.connection.driver_connection
        cursor = raw.cursor()
        cursor.executemany(
            "INSERT INTO rep (team_id, user_id, name, tz, deactivated, is_bot, is_admin, refreshed_at)"
            " VALUES (%s, %s, %s, %s, false, false, false, %s)".replace("%s", "?" if _sqlite(db) else "%s"),
            reps_rows + managers,
        )
        cursor.executemany(
            (
                "INSERT INTO lead (team_id, name, name_key, owner_id, created_by, status, created_at, opted_out_at,"
                " attempts, reached, ever_reached, last_touch_at, last_contact_at, next_follow_up, meeting_on,"
                " attempt_baseline) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)"
            ).replace("%s", "?" if _sqlite(db) else "%s"),
            lead_rows,
        )
        ids = [row[0] for row in connection.execute(text("SELECT id FROM lead ORDER BY id"))]
        batch = []
        for i in range(touches):
            at = NOW - timedelta(minutes=i)
            outcome = rng.choices(OUTCOMES, WEIGHTS)[0]
            meeting_on = (at + timedelta(days=rng.randint(0, 9))).date() if outcome == "meeting" else None
            due_on = (at + timedelta(days=rng.randint(-4, 3))).date()
            batch.append(
                (TEAM, ids[i % len(ids)], reps_rows[i % reps][1], outcome, at, meeting_on, due_on, "", NOW)
            )
            if len(batch) == 50_000:
                _touches(cursor, batch, db)
                batch = []
        if batch:
            _touches(cursor, batch, db)
        # last fortnight's wins, losses, parked leads and approved hand-offs: about one a rep a day
        changes, transfers = [], []
        for i in range(reps * 14):
            at = NOW - timedelta(minutes=rng.randint(1, 14 * 24 * 60))
            owner, other = reps_rows[i % reps][1], reps_rows[(i + 1) % reps][1]
            changes.append(
                (TEAM, ids[i % len(ids)], owner, owner, rng.choice(("won", "lost", "backburner")), at)
            )
            transfers.append((TEAM, ids[(i * 7) % len(ids)], owner, other, owner, "", "approved", at, at))
        cursor.executemany(
            'INSERT INTO status_change (team_id, lead_id, owner_id, "by", status, at) VALUES (%s, %s, %s, %s, %s, %s)'.replace(
                "%s", "?" if _sqlite(db) else "%s"
            ),
            changes,
        )
        cursor.executemany(
            (
                "INSERT INTO transfer_request (team_id, lead_id, from_owner, to_user, requested_by, reason, status,"
                " decided_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            ).replace("%s", "?" if _sqlite(db) else "%s"),
            transfers,
        )
        # what logging each touch keeps on the lead: its first contact, for the attempt curve
        first_contacts = importlib.import_module("store.migrations.versions.0021_first_contact")
        first_contacts.backfill(lambda sql: connection.execute(text(sql)))
        connection.execute(
            text("INSERT INTO bench_seed VALUES (:reps, :leads, :touches)"),
            {"reps": reps, "leads": leads, "touches": touches},
        )


OUTCOMES = ("call", "voicemail", "no-answer", "email", "connected", "replied", "meeting")
WEIGHTS = (20, 30, 15, 20, 8, 4, 3)


def _touches(cursor: Any, rows: list[tuple[Any, ...]], db: Database) -> None:
    sql = (
        "INSERT INTO touch (team_id, lead_id, user_id, outcome, at, meeting_on, due_on, note, logged_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    cursor.executemany(sql.replace("%s", "?" if _sqlite(db) else "%s"), rows)


def analyzed(db: Database) -> None:
    """PostgreSQL plans a join from the statistics autovacuum keeps. Where autovacuum is off (as on
    this machine), freshly seeded tables have none and every table is planned as if it held a row:
    the weekly review's joins then took 25 s instead of 0.6 at 1,000 reps. Not timed."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def _sqlite(db: Database) -> bool:
    return db.engine.dialect.name == "sqlite"


def morning(db: Database, *, trace_memory: bool) -> tuple[float, float, float, int, int, int]:
    """Who is due, claim them, compute every digest: (seconds, CPU seconds, peak MB, statements,
    digests, items). CPU is this process's (on SQLite the database's work too; not PostgreSQL's
    server): on a shared machine it says what the code costs when the wall clock says how busy
    the machine was.

    Memory is traced in a separate pass: tracemalloc slows allocation-heavy code several times over.
    """
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM delivery"))
    event.listen(db.engine, "before_cursor_execute", count)
    if trace_memory:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    with db.sessions.begin() as session:
        due = digest_records.due_digests(session, now=NOW, defaults=TeamConfig(), everyone=True)
        claimed = digest_records.claim(session, due, kind=Kind.DIGEST, now=NOW, owner="bench")
    with db.readers.begin() as session:
        jobs = digest_records.digests(session, claimed, now=NOW, defaults=TeamConfig())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace_memory else 0.0
    if trace_memory:
        tracemalloc.stop()
    event.remove(db.engine, "before_cursor_execute", count)
    return seconds, cpu, peak, statements, len(jobs), sum(job.digest.total for job in jobs)


def clock_share(url: str, clocks: int, index: int, start: Any, out: Any) -> None:
    """One of `clocks` clock processes: who is due, then claim a share and compute its digests
    until nothing is left to claim."""
    db = open_database(url, pool_size=2)
    statements = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal statements
        # not SQLite's BEGIN IMMEDIATE, retried every few ms while the other clock writes
        statements += not statement.startswith("BEGIN")

    event.listen(db.engine, "before_cursor_execute", count)
    start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    with db.sessions.begin() as session:
        due = digest_records.due_digests(session, now=NOW, defaults=TeamConfig(), everyone=True)
    order = random.Random(index).sample(due, len(due))
    share = digest_records.share_of(len(due), clocks)
    jobs: list[digest_records.DigestJob] = []
    while True:  # as `Deliveries` does: a share at a time until the others have taken the rest
        with db.sessions.begin() as session:
            claimed = digest_records.claim(
                session, order, kind=Kind.DIGEST, now=NOW, owner=f"clock{index}", share=share
            )
        if not claimed:
            break
        with db.readers.begin() as session:
            jobs += digest_records.digests(session, claimed, now=NOW, defaults=TeamConfig())
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    out.put((index, seconds, cpu, peak_resident_mb(), statements, len(jobs)))
    db.engine.dispose()


def peak_resident_mb() -> float:
    """This process's own peak resident memory. Not `getrusage`'s ru_maxrss: Linux keeps it across
    the spawn's exec, so a clock reported the measuring process's peak (the one-clock morning
    before it, about twice a clock's own)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def split_morning(db: Database, url: str, clocks: int) -> None:
    """`clocks` processes started together, each claiming its share (CLOCK_PROCESSES=clocks)."""
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM delivery"))
    # spawned, not forked: each clock's resident memory is its own, not a copy of this process's
    spawn = multiprocessing.get_context("spawn")
    start, out = spawn.Barrier(clocks + 1), spawn.Queue()
    workers = [spawn.Process(target=clock_share, args=(url, clocks, i, start, out)) for i in range(clocks)]
    for worker in workers:
        worker.start()
    start.wait()  # every clock has opened its database: they start together
    began = time.perf_counter()
    results = sorted(out.get() for _ in workers)
    wall = time.perf_counter() - began
    for worker in workers:
        worker.join()
    print(f"\n  The same morning split across {clocks} clock processes (CLOCK_PROCESSES={clocks}):\n")
    print(f"  {'clock':>6} {'seconds':>9} {'CPU s':>7} {'peak RSS MB':>12} {'statements':>11} {'digests':>8}")
    for index, seconds, cpu, peak, statements, done in results:
        print(f"  {index:>6} {seconds:>9.2f} {cpu:>7.2f} {peak:>12.0f} {statements:>11} {done:>8,}")
    print(f"  all done in {wall:.2f} s; {sum(r[5] for r in results):,} digests", flush=True)


MANAGERS = [f"M{i:07d}" for i in range(50)]
REVIEW_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday: every manager's week is in the past


def reviews(
    db: Database, *, managers: int, trace_memory: bool
) -> tuple[float, float, float, int, int, list[WeeklyReview]]:
    """Every manager's review computed and built as a message: (seconds, CPU seconds, peak MB,
    statements, blocks, reviews)."""
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    config = TeamConfig(manager_ids=frozenset(MANAGERS[:managers]))
    event.listen(db.engine, "before_cursor_execute", count)
    if trace_memory:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    with db.readers.begin() as session:
        due = digest_records.due_reviews(session, now=REVIEW_AT, defaults=config, everyone=True)
        jobs = weekly_reviews(session, due, now=REVIEW_AT, defaults=config)
        names = queries.people.rep_names(session, team_ids=[TEAM])
    messages = [weekly_review(job.review, names=lambda u: names.get((TEAM, u), u)) for job in jobs]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace_memory else 0.0
    if trace_memory:
        tracemalloc.stop()
    event.remove(db.engine, "before_cursor_execute", count)
    distinct = list({job.review.key: job.review for job in jobs}.values())
    return seconds, cpu, peak, statements, max(len(m.blocks) for m in messages), distinct


def charts(reviews: list[WeeklyReview]) -> float:
    """The slowest picture, in seconds (each is drawn once per team, day and time zone)."""
    slowest = 0.0
    for review in reviews:
        started = time.perf_counter()
        review_png(review.week, review.curve, name=str)
        alt_text(review.week, review.curve, name=str)
        slowest = max(slowest, time.perf_counter() - started)
    return slowest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--touches", type=int, default=1_000_000)
    parser.add_argument("--managers", type=int, default=50)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the seeded database; measure only the full size"
    )
    parser.add_argument(
        "--clocks", type=int, default=1, help="also split the full team's morning across this many processes"
    )
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        parser.error("--reuse needs --database-url (a file or server that outlives the run)")
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='baton-scale-')) / 'scale.db'}"
    db = open_database(url, pool_size=2)
    upgrade(db.engine)
    backend = db.engine.dialect.name
    print(f"Morning digests on {backend}: what the clock does for every rep at once\n")
    print(
        f"  {'reps':>6} {'leads':>8} {'touches':>10} {'seconds':>9} {'CPU s':>7} {'peak MB':>9} {'statements':>11} {'digests':>8} {'items':>7}"
    )
    for scale in (1,) if args.reuse else (10, 1):
        reps, leads, touches = args.reps // scale, args.leads // scale, args.touches // scale
        if not args.reuse or seeded(db) != (reps, leads, touches):
            began = time.perf_counter()
            seed(db, reps, leads, touches)
            if args.reuse:
                print(f"  (seeded in {time.perf_counter() - began:.0f} s)", flush=True)
        analyzed(db)
        seconds, cpu, _, statements, done, items = morning(db, trace_memory=False)
        _, _, peak, _, _, _ = morning(db, trace_memory=True)
        print(
            f"  {reps:>6,} {leads:>8,} {touches:>10,} {seconds:>9.2f} {cpu:>7.2f} {peak:>9.1f} {statements:>11} {done:>8,} {items:>7,}",
            flush=True,
        )
    if args.clocks > 1:
        split_morning(db, url, args.clocks)
    print("\n  Targets: under 10 s and 500 MB for the full team; the same statements at every size.")
    print(f"\nWeekly reviews on {backend}: every manager's review of the whole team, and its picture\n")
    print(
        f"  {'reps':>6} {'touches':>10} {'managers':>9} {'seconds':>9} {'CPU s':>7} {'peak MB':>9} {'statements':>11} "
        f"{'blocks':>7} {'pictures':>9} {'slowest picture':>16}"
    )
    for managers in (1, args.managers):
        seconds, cpu, _, statements, blocks, distinct = reviews(db, managers=managers, trace_memory=False)
        _, _, peak, _, _, _ = reviews(db, managers=managers, trace_memory=True)
        slowest = charts(distinct)
        print(
            f"  {reps:>6,} {touches:>10,} {managers:>9} {seconds:>9.2f} {cpu:>7.2f} {peak:>9.1f} {statements:>11} "
            f"{blocks:>7} {len(distinct):>9} {slowest:>14.2f} s",
            flush=True,
        )
    print("\n  Targets: under 5 s and 500 MB for every review; each picture under 1 s; the same statements.")
    db.engine.dispose()


if __name__ == "__main__":
    main()
