"""Queries on the inbox: requests kept from their acknowledgement until they end. Never commits.

Leases are measured on the database's clock (store/leases.py `database_now`), never a process's own: two
machines whose clocks disagree still agree on whose lease has run out. A retry's "not before"
(`retry_at`) is a schedule, kept on the app's clock like every other time Baton stores.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.leases import database_now
from store.models import Inbox


@dataclass(frozen=True)
class Kept:
    """A kept request as recovery or the dead letter sees it."""

    id: int
    team_id: str
    user_id: str
    kind: str
    body: str
    received_at: datetime
    attempts: int


# Built once, with bound parameters: every request is received and finished, in the request
# thread and first in the work's transaction, and building and keying a statement costs
# SQLAlchemy more than running it (issue 19).
_TABLE = cast(Table, Inbox.__table__)
_RECEIVE: dict[tuple[str, frozenset[str], float], Any] = {}  # per database, columns and lease


def receive(session: Session, *, owner: str, lease: timedelta, **values: object) -> int | None:
    """Insert the request, already leased to the process that received it, unless its key is
    known; its id, or None for a replay or a retry."""
    dialect = session.get_bind().dialect.name
    key = (dialect, frozenset(values), lease.total_seconds())
    statement = _RECEIVE.get(key)
    if statement is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        columns: dict[str, Any] = {name: bindparam(f"v_{name}") for name in values}
        statement = _RECEIVE[key] = (
            insert(_TABLE)
            .values(
                **columns,
                owner=bindparam("v_owner"),
                lease_until=database_now(session, lease),
                attempts=1,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(_TABLE.c.id)
        )
    parameters = {f"v_{name}": value for name, value in values.items()}
    parameters["v_owner"] = owner
    inbox_id: int | None = session.execute(statement, parameters).scalar_one_or_none()
    return inbox_id


def _free(session: Session, *, owner: str, now: datetime) -> ColumnElement[bool]:
    """Undone, nobody alive on it (no owner, or one whose lease ran out), not this process's own
    (it is in this process's queue), and its retry, if any, is due."""
    return and_(
        Inbox.done_at.is_(None),
        or_(Inbox.owner.is_(None), and_(Inbox.owner != owner, Inbox.lease_until < database_now(session))),
        or_(Inbox.retry_at.is_(None), Inbox.retry_at <= now),
    )


_FINISH = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("b_id"), _TABLE.c.owner == bindparam("b_owner"), _TABLE.c.done_at.is_(None)
    )
    .values(done_at=bindparam("b_now"), outcome=bindparam("b_outcome"))
    .returning(_TABLE.c.id)
)


def finish(session: Session, inbox_id: int, *, owner: str, now: datetime, outcome: str) -> bool:
    """End it, if it is still this process's: False when it is done already or was taken over.
    In the work's own transaction this is its first statement, and the take and the mark at once."""
    parameters = {"b_id": inbox_id, "b_owner": owner, "b_now": now, "b_outcome": outcome}
    return session.execute(_FINISH, parameters).scalar_one_or_none() is not None


def release(session: Session, inbox_id: int, *, owner: str, retry_at: datetime) -> bool:
    """Hand it back undone, to be tried again from `retry_at` by whichever process is free."""
    statement = (
        update(Inbox)
        .where(Inbox.id == inbox_id, Inbox.owner == owner, Inbox.done_at.is_(None))
        .values(owner=None, lease_until=None, retry_at=retry_at)
        .returning(Inbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def renew(session: Session, *, owner: str, lease: timedelta) -> int:
    """The heartbeat: every request this process still holds is leased again from now."""
    statement = (
        update(Inbox)
        .where(Inbox.owner == owner, Inbox.done_at.is_(None))
        .values(lease_until=database_now(session, lease))
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def adopt(session: Session, *, owner: str) -> int:
    """Free every request another process held: on SQLite, which one process serves, whoever held
    them is the process this one replaced, and dead."""
    statement = (
        update(Inbox)
        .where(Inbox.done_at.is_(None), Inbox.owner.is_not(None), Inbox.owner != owner)
        .values(owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def hand_back(session: Session, *, owner: str) -> int:
    """Everything `owner` holds, undone, back to the inbox for any process to take now."""
    statement = (
        update(Inbox)
        .where(Inbox.owner == owner, Inbox.done_at.is_(None))
        .values(owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def take_free(
    session: Session, *, owner: str, now: datetime, lease: timedelta, max_attempts: int, limit: int
) -> list[Kept]:
    """Take up to `limit` free requests (oldest first) for this process, counting the attempt.
    Every row chosen is taken, so the next pass sees the next ones: none can starve the rest."""
    chosen = (
        select(Inbox.id)
        .where(_free(session, owner=owner, now=now), Inbox.attempts < max_attempts)
        .order_by(Inbox.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)  # two processes recovering take different rows
    ids = list(session.scalars(chosen))
    if not ids:
        return []
    statement = (
        update(Inbox)
        .where(Inbox.id.in_(ids))  # at most `limit` ids
        .values(
            owner=owner, lease_until=database_now(session, lease), retry_at=None, attempts=Inbox.attempts + 1
        )
        .returning(
            Inbox.id,
            Inbox.team_id,
            Inbox.user_id,
            Inbox.kind,
            Inbox.body,
            Inbox.received_at,
            Inbox.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    return sorted((Kept(*row) for row in session.execute(statement)), key=lambda k: k.id)


def dead_letters(session: Session, *, owner: str, now: datetime, max_attempts: int, limit: int) -> list[Kept]:
    """Free requests that used up their tries: closed as dead, returned so their senders are told."""
    chosen = (
        select(Inbox.id)
        .where(_free(session, owner=owner, now=now), Inbox.attempts >= max_attempts)
        .order_by(Inbox.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    ids = list(session.scalars(chosen))
    if not ids:
        return []
    statement = (
        update(Inbox)
        .where(Inbox.id.in_(ids))
        .values(done_at=now, outcome="dead", owner=owner)
        .returning(
            Inbox.id,
            Inbox.team_id,
            Inbox.user_id,
            Inbox.kind,
            Inbox.body,
            Inbox.received_at,
            Inbox.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    return sorted((Kept(*row) for row in session.execute(statement)), key=lambda k: k.id)


def anything_free(session: Session, *, owner: str, now: datetime) -> bool:
    """A cheap read first, so an idle recovery pass takes no write lock."""
    query = select(Inbox.id).where(_free(session, owner=owner, now=now)).limit(1)
    return session.execute(query).first() is not None


def rows(session: Session) -> Sequence[Inbox]:
    return session.scalars(select(Inbox).order_by(Inbox.id)).all()
