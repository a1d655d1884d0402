"""The engine and session factory: one of each per process."""

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 5000
READ_ONLY = "baton_read_only"
LIMITS = "baton_limits"
URGENT = "baton_urgent"
# The request thread's write before an acknowledgement (the inbox row) gets this long to start,
# lock waits included; then it gives up and the request is answered without being kept
# (handlers/inbox.py). Slack waits 3 seconds for the acknowledgement; this leaves a second for
# the rest of it and the network.
ACK_WRITE_DEADLINE = 1.5
# How often a SQLite writer tries again for the lock (see `_begin_writing`).
WRITE_RETRY = 0.002
# What a batch writer on SQLite pauses between its short transactions, so waiting writers
# (the request thread's, another process's) get their turn.
BATCH_PAUSE = 0.02
# PostgreSQL, per transaction (SET LOCAL): (statement_timeout, lock_timeout) in milliseconds.
# On the request thread Slack waits 3 seconds for the whole answer: a query gets 2 of them, and
# waiting on another transaction's lock 1. Listener work may wait longer, but never for ever: a
# lock held for 10 seconds is an outage, and the rep is better told than left hanging.
REQUEST_LIMITS = (2000, 1000)
WORK_LIMITS = (0, 10_000)  # 0: no statement timeout (imports and the morning batch run long queries)
UNLIMITED = (0, 0)
# PostgreSQL connections of each process's pool that listener writes leave free for the request
# thread's (the inbox row written before an acknowledgement).
RESERVED_FOR_REQUESTS = 2
# SQLite's own default: a commit that leaves the write-ahead log this many pages long copies it
# into the database file (a checkpoint) before it returns.
AUTO_CHECKPOINT_PAGES = 1000


class Checkpoints:
    """Who copies SQLite's write-ahead log into the database file: by default whichever commit
    finds the log long (SQLite's autocheckpoint). A serving process takes it over (`apart`): its
    recovery loop checkpoints every few seconds beside the writers, never inside one. A checkpoint
    inside a commit syncs the database file while that writer still holds this process's turn to
    write, and an acknowledgement waited behind it (issue 19: 6-9 ms, a few times a minute at
    20 commands a second)."""

    def __init__(self) -> None:
        self.apart = False

    def pages(self) -> int:
        return 0 if self.apart else AUTO_CHECKPOINT_PAGES


def normalize_url(url: str) -> str:
    """Accept the `postgres://` scheme some hosts hand out, and default PostgreSQL to psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10, checkpoints: Checkpoints | None = None) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        if make_url(url).database in (None, "", ":memory:"):
            # Bolt runs listeners on worker threads, each with its own connection:
            # an in-memory database would be a different, empty one on every thread.
            raise ValueError("SQLite needs a file for Baton (e.g. sqlite:///baton.db), not :memory:")
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
        _tune_sqlite(engine, checkpoints or Checkpoints())
        return engine
    # `pool_size` is this process's whole share of the server's connections (README, Deploying):
    # no overflow. Threads beyond it wait for a connection instead of opening another.
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True, connect_args={"connect_timeout": 5}
    )
    _limit_postgres(engine)
    return engine


def _limit_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        statement_ms, lock_ms = connection.get_execution_options().get(LIMITS, WORK_LIMITS)
        # Both in one statement (SET LOCAL, for this transaction only): a round trip fewer for
        # every transaction, several a command (issue 19).
        connection.exec_driver_sql(
            f"SELECT set_config('statement_timeout', '{int(statement_ms)}', true), "
            f"set_config('lock_timeout', '{int(lock_ms)}', true)"
        )


def _tune_sqlite(engine: Engine, checkpoints: Checkpoints) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Hand transaction control to SQLAlchemy so that "begin" below decides how to start one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        _checkpoint_pages(dbapi_connection, record, checkpoints.pages())

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A connection opened before the process took the checkpoints over learns it here.
        pages = checkpoints.pages()
        if record.info.get(AUTOCHECKPOINT) != pages:
            _checkpoint_pages(dbapi_connection, record, pages)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            # Take the write lock up front: a deferred transaction that reads and then writes can
            # fail with "database is locked" at once, without waiting out busy_timeout.
            _begin_writing(connection, urgent=bool(options.get(URGENT)))


AUTOCHECKPOINT = "baton_autocheckpoint"


def _checkpoint_pages(dbapi_connection: Any, record: Any, pages: int) -> None:
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
    record.info[AUTOCHECKPOINT] = pages


def _begin_writing(connection: Any, *, urgent: bool) -> None:
    """BEGIN IMMEDIATE, tried again every few milliseconds until the deadline (the request's
    `ACK_WRITE_DEADLINE` when urgent, else the busy timeout). SQLite's own busy handler sleeps in
    growing steps of up to 100 ms: a writer in another process that takes short turns with short
    pauses (an import, the retention pass) would win the lock back every time, and a listener
    waiting that way holds this process's turn while the acknowledgements queue behind it.

    Said straight to the driver's connection: these three statements open every write
    transaction, and through SQLAlchemy's execution path (events, cursor wrapping, results) they
    cost more than some transactions' own work (issue 19)."""
    patience = ACK_WRITE_DEADLINE if urgent else SQLITE_BUSY_TIMEOUT_MS / 1000
    deadline = (_urgent_deadline.get() if urgent else None) or time.monotonic() + patience
    driver = connection.connection.dbapi_connection
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as raw:
                # As SQLAlchemy would have raised it, so callers tell a lock from a bug the same way.
                error = OperationalError("BEGIN IMMEDIATE", None, raw)
                if "locked" not in str(raw) or time.monotonic() > deadline:
                    if urgent:
                        raise TooSlow("the database could not take a write in time") from error
                    raise error from raw
                time.sleep(WRITE_RETRY)
    finally:
        # Statements inside the transaction (a checkpoint, a reader's snapshot) may still wait.
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


# When the urgent write under way must have started: waiting for a turn in this process and for
# SQLite's lock in another share one deadline.
_urgent_deadline: ContextVar[float | None] = ContextVar("baton_urgent_deadline", default=None)


class Turns:
    """A lock whose urgent waiters go first: an acknowledgement waiting to write never queues
    behind listener work that can wait (Slack gives the acknowledgement 3 seconds).

    Waiters queue in order, each on a lock of its own, and a release hands the turn straight to
    the next one: waking every waiter to race for it (a condition's notify_all) cost a sixth of
    the process's CPU with 32 listener threads queued behind SQLite's one writer (issue 19)."""

    def __init__(self, slots: int = 1) -> None:
        self._free = slots
        self._lock = threading.Lock()
        self._urgent: deque[threading.Lock] = deque()
        self._others: deque[threading.Lock] = deque()

    @property
    def urgent_waiting(self) -> int:
        return len(self._urgent)

    def acquire(self, *, urgent: bool, timeout: float) -> bool:
        with self._lock:
            if self._free > 0 and (urgent or not self._urgent):
                self._free -= 1
                return True
            turn = threading.Lock()
            turn.acquire()  # released by whoever hands this waiter the turn
            queue = self._urgent if urgent else self._others
            queue.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._lock:
            if turn in queue:  # still waiting: give up
                queue.remove(turn)
                return False
        return True  # handed the turn just as the wait ran out: it is ours

    def release(self) -> None:
        with self._lock:
            queue = self._urgent or self._others
            if queue:
                queue.popleft().release()  # the turn passes on; the slot never becomes free
            else:
                self._free += 1


class Writers:
    """Starts write transactions, urgent ones (the request thread's, before an acknowledgement) first.

    On SQLite, the threads of one process take turns on one lock first. SQLite admits one writer
    at a time; left to its busy handler, waiting threads sleep in growing steps with no fairness,
    and under a burst some wait past the busy timeout. Queueing on a lock inside the process is
    fair and wakes the next writer at once; the busy timeout then only has to arbitrate between
    processes. On PostgreSQL, listener work may use all but `reserved` of the pool's connections,
    so an urgent write never waits for a connection behind it.
    """

    def __init__(self, engine: Engine, *, serialise: bool, pool_size: int = 1) -> None:
        self._factory = sessionmaker(engine, expire_on_commit=False)
        self._urgent = sessionmaker(
            engine.execution_options(**{LIMITS: REQUEST_LIMITS, URGENT: True}), expire_on_commit=False
        )
        reserved = min(RESERVED_FOR_REQUESTS, pool_size - 1)
        self._turns = Turns() if serialise else Turns(pool_size - reserved) if reserved > 0 else None
        self._serialise = serialise
        # SQLite: no longer than SQLite itself would wait for its lock; PostgreSQL: as long as
        # SQLAlchemy waits for a pooled connection.
        self._patience = SQLITE_BUSY_TIMEOUT_MS / 1000 if serialise else 30.0

    def after_commit(self, listener: Callable[[Session], None]) -> None:
        """Call `listener(session)` after each write transaction commits (to drop what it made stale)."""
        for factory in (self._factory, self._urgent):
            event.listen(factory, "after_commit", listener)

    @contextmanager
    def begin(self, *, urgent: bool = False) -> Iterator[Session]:
        """`urgent`: the request thread's write before it acknowledges (statement and lock timeouts
        as for the request thread's reads); it jumps the queue of listener work."""
        factory = self._urgent if urgent else self._factory
        if self._turns is None or (urgent and not self._serialise):
            with factory.begin() as session:
                yield session
            return
        deadline = _urgent_deadline.set(time.monotonic() + ACK_WRITE_DEADLINE if urgent else None)
        try:
            patience = ACK_WRITE_DEADLINE if urgent else self._patience
            if not self._turns.acquire(urgent=urgent, timeout=patience):
                raise TooSlow("the database is busy: no turn to write in time")
            try:
                with factory.begin() as session:
                    yield session
            finally:
                self._turns.release()
        finally:
            _urgent_deadline.reset(deadline)


class TooSlow(Exception):
    """The database did not answer within the time a request has."""


@dataclass(frozen=True)
class Database:
    """One engine per process, a factory for write transactions and one for read-only ones.

    On SQLite the read-only factory starts deferred transactions, so a long report never holds
    the write lock; on PostgreSQL both behave the same.
    """

    engine: Engine
    sessions: Writers
    readers: sessionmaker[Session]
    quick: sessionmaker[Session]  # read-only, for the request thread: REQUEST_LIMITS on PostgreSQL
    checkpoints: Checkpoints

    def checkpoint_apart(self) -> None:
        """From now on, this process's commits leave SQLite's log to `checkpoint`, which the
        caller runs every few seconds (a serving process's recovery loop)."""
        self.checkpoints.apart = True

    def checkpoint(self) -> bool:
        """SQLite: copy what the write-ahead log holds into the database file, beside the writers
        (PASSIVE: it waits for no reader and no writer, and copies what it can); whether all of
        it is copied. Nothing on PostgreSQL, whose server does this itself."""
        if self.engine.dialect.name != "sqlite":
            return True
        connection = self.engine.raw_connection()
        try:
            # Straight to the driver, outside any transaction (SQLAlchemy's would begin one, and
            # on SQLite ours take the write lock): the checkpoint needs neither.
            driver: Any = connection.driver_connection
            busy, logged, copied = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            connection.close()
        return bool(busy == 0 and logged == copied)

    def within(self, seconds: float, work: Callable[[Session], T]) -> T:
        """`work(session)` in a quick read-only transaction, or TooSlow after `seconds`.

        The deadline covers everything, waiting for a pooled connection included. Work that
        misses it is abandoned, not stopped: its statement timeout ends it soon after.
        """

        def run() -> T:
            try:
                with self.quick.begin() as session:
                    return work(session)
            except (OperationalError, PoolTimeout) as error:  # a timeout, a lock, the server away
                raise TooSlow(f"the database could not answer: {type(error).__name__}") from error

        future = _deadlines.submit(run)
        try:
            return future.result(timeout=seconds)
        except FutureTimeout as error:
            raise TooSlow(f"no answer from the database within {seconds:g} s") from error


# Threads that run request-thread queries against a deadline; a few suffice (each is quick or
# abandoned), and a stuck database makes callers time out rather than queue without end.
_deadlines = ThreadPoolExecutor(max_workers=8, thread_name_prefix="db-deadline")


def open_database(url: str, *, pool_size: int = 10) -> Database:
    checkpoints = Checkpoints()
    engine = make_engine(url, pool_size=pool_size, checkpoints=checkpoints)
    reading = engine.execution_options(**{READ_ONLY: True})
    return Database(
        engine=engine,
        sessions=Writers(engine, serialise=is_sqlite(url), pool_size=pool_size),
        readers=sessionmaker(reading, expire_on_commit=False),
        quick=sessionmaker(reading.execution_options(**{LIMITS: REQUEST_LIMITS}), expire_on_commit=False),
        checkpoints=checkpoints,
    )


def answers(db: Database, *, seconds: float = 2.0) -> bool:
    """Whether the database answers a trivial query within `seconds`."""
    try:
        db.within(seconds, lambda session: session.execute(text("SELECT 1")))
    except Exception:
        return False
    return True


def between_turns(db: Database, *, held: float = 0.0) -> None:
    """A batch writer's pause after a short transaction that held the lock `held` seconds: on
    SQLite, at least as long, so the writers waiting meanwhile (acknowledgements, listener work,
    another process) get at least half of the lock's time."""
    if db.engine.dialect.name == "sqlite":
        time.sleep(max(BATCH_PAUSE, held))


def takes_writes(db: Database) -> bool:
    """Whether the database would take the request thread's write now, within its deadline: what
    /healthz reports. Reads alone are not enough: while an import held SQLite's lock for 11 s,
    reads answered and every acknowledgement waited (issue 19). Nothing is written: the write
    transaction starts (on SQLite it takes the lock) and is rolled back."""
    try:
        with db.sessions.begin(urgent=True) as session:
            if session.get_bind().dialect.name == "postgresql":
                writable = session.execute(
                    text(
                        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'"
                    )
                ).scalar_one()
                if not writable:
                    return False
            else:
                session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE took the lock: it would write
    except Exception:
        return False
    return True
