"""The engine keeps to its budget: PostgreSQL connections per process, time per request-thread query."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from store.db import AUTO_CHECKPOINT_PAGES, Database, Turns, open_database
from tests.conftest import PG_URL


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")
def test_a_process_never_holds_more_postgres_connections_than_its_budget() -> None:
    assert PG_URL
    db = open_database(PG_URL, pool_size=3)
    backends: set[int] = set()

    def work(_: int) -> None:
        with db.sessions.begin() as session:
            backends.add(int(session.scalar(text("SELECT pg_backend_pid()")) or 0))
            session.execute(text("SELECT pg_sleep(0.02)"))  # hold the connection, as real work does

    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            list(pool.map(work, range(36)))  # twelve at once: nine of them wait for a connection
    finally:
        db.engine.dispose()
    assert 1 <= len(backends) <= 3


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")
def test_request_thread_queries_carry_a_statement_and_lock_timeout() -> None:
    assert PG_URL
    db = open_database(PG_URL, pool_size=1)
    try:
        limits = db.within(
            2.0,
            lambda session: session.execute(
                text("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
            ).one(),
        )
        with db.sessions.begin() as session:
            work = session.execute(text("SELECT current_setting('lock_timeout')")).scalar()
    finally:
        db.engine.dispose()
    assert tuple(limits) == ("2s", "1s")
    assert work == "10s"


def test_an_acknowledgement_waiting_to_write_goes_before_queued_listener_work() -> None:
    turns = Turns()
    assert turns.acquire(urgent=False, timeout=1)  # a listener is writing
    order: list[str] = []
    queued = threading.Event()

    def wait(name: str, urgent: bool) -> None:
        if not urgent:
            queued.set()
        assert turns.acquire(urgent=urgent, timeout=5)
        order.append(name)
        turns.release()

    listener = threading.Thread(target=wait, args=("listener work", False))
    listener.start()
    queued.wait()
    ack = threading.Thread(target=wait, args=("acknowledgement", True))
    ack.start()
    while turns.urgent_waiting == 0:  # the acknowledgement is queued too
        threading.Event().wait(0.001)
    turns.release()
    listener.join()
    ack.join()
    assert order == ["acknowledgement", "listener work"]


def test_writers_take_turns_in_the_order_they_came_and_one_who_gave_up_keeps_no_turn() -> None:
    turns = Turns()
    assert turns.acquire(urgent=False, timeout=1)
    assert not turns.acquire(urgent=False, timeout=0.01)  # gave up waiting
    order: list[int] = []
    started: list[threading.Thread] = []

    def take_a_turn(number: int) -> None:
        assert turns.acquire(urgent=False, timeout=5)
        order.append(number)
        turns.release()

    for number in range(5):
        waiter = threading.Thread(target=take_a_turn, args=(number,))
        waiter.start()
        started.append(waiter)
        while len(turns._others) < number + 1:  # queued before the next one comes
            threading.Event().wait(0.001)
    turns.release()
    for waiter in started:
        waiter.join()
    assert order == [0, 1, 2, 3, 4]
    assert turns.acquire(urgent=False, timeout=0.01)  # the turn came back free at the end


def wal_pages(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def fill(db: Database, pages: int) -> None:
    """Commit about `pages` pages of new rows, a page a transaction."""
    for _ in range(pages):
        with db.sessions.begin() as session:
            session.execute(text("INSERT INTO filler (blob) VALUES (randomblob(3500))"))


def test_a_serving_process_checkpoints_sqlite_beside_its_writers_never_inside_a_commit(
    tmp_path: Path,
) -> None:
    # A checkpoint inside a commit syncs the database file while that writer holds the process's
    # turn to write, and the acknowledgement queued behind it waited (issue 19).
    path = tmp_path / "baton.db"
    db = open_database(f"sqlite:///{path}", pool_size=2)
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, blob BLOB)"))
    fill(db, 1_200)
    assert wal_pages(path) <= AUTO_CHECKPOINT_PAGES + 50  # SQLite's default: commits checkpoint

    db.checkpoint_apart()  # what a serving process does (bot/app.py keep_recovering)
    fill(db, 1_200)
    assert wal_pages(path) > AUTO_CHECKPOINT_PAGES + 100  # no commit copied the log back
    assert db.checkpoint()  # all of it is in the database file now
    fill(db, 10)
    assert wal_pages(path) > AUTO_CHECKPOINT_PAGES  # ...and the log is written again from its start
    db.engine.dispose()
