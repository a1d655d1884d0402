"""The engine and session factory: one of each per process."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000
READ_ONLY = "baton_read_only"


def normalize_url(url: str) -> str:
    """Accept the `postgres://` scheme some hosts hand out, and default PostgreSQL to psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        if make_url(url).database in (None, "", ":memory:"):
            # Bolt runs listeners on worker threads, each with its own connection:
            # an in-memory database would be a different, empty one on every thread.
            raise ValueError("SQLite needs a file for Baton (e.g. sqlite:///baton.db), not :memory:")
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy so that "begin" below decides how to start one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            # Take the write lock up front: a deferred transaction that reads and then writes can
            # fail with "database is locked" at once, without waiting out busy_timeout.
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Writers:
    """Starts write transactions. On SQLite, the threads of one process take turns on a lock first.

    SQLite admits one writer at a time; left to its busy handler, waiting threads sleep in growing
    steps with no fairness, and under a burst some wait past the busy timeout. Queueing on a lock
    inside the process is fair and wakes the next writer at once; the busy timeout then only has
    to arbitrate between processes.
    """

    def __init__(self, factory: sessionmaker[Session], *, serialise: bool) -> None:
        self._factory = factory
        self._turn = threading.Lock() if serialise else None

    @contextmanager
    def begin(self) -> Iterator[Session]:
        if self._turn is None:
            with self._factory.begin() as session:
                yield session
            return
        with self._turn, self._factory.begin() as session:
            yield session


@dataclass(frozen=True)
class Database:
    """One engine per process, a factory for write transactions and one for read-only ones.

    On SQLite the read-only factory starts deferred transactions, so a long report never holds
    the write lock; on PostgreSQL both behave the same.
    """

    engine: Engine
    sessions: Writers
    readers: sessionmaker[Session]


def open_database(url: str, *, pool_size: int = 10) -> Database:
    engine = make_engine(url, pool_size=pool_size)
    return Database(
        engine=engine,
        sessions=Writers(sessionmaker(engine, expire_on_commit=False), serialise=is_sqlite(url)),
        readers=sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False),
    )


def answers(db: Database) -> bool:
    """Whether the database answers a trivial query now: what /healthz reports."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
