"""Queries on the inbox: requests kept from their acknowledgement until they are done. Never commits."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import Inbox


def receive(session: Session, **values: object) -> int | None:
    """Insert the request unless its key is known; its id, or None for a replay or a retry."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Inbox).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(Inbox.id)
    )
    return session.execute(statement).scalar_one_or_none()


def _free(now: datetime) -> ColumnElement[bool]:
    return and_(Inbox.done_at.is_(None), or_(Inbox.owner.is_(None), Inbox.lease_until < now))


def take(session: Session, inbox_id: int, *, owner: str, now: datetime, lease_until: datetime) -> bool:
    """Take an undone request nobody is working on (or whose worker's lease ran out)."""
    statement = (
        update(Inbox)
        .where(Inbox.id == inbox_id, _free(now))
        .values(owner=owner, lease_until=lease_until, attempts=Inbox.attempts + 1)
        .returning(Inbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def finish(session: Session, inbox_id: int, *, owner: str, now: datetime, outcome: str) -> bool:
    """Mark it done, if it is still this worker's: False when another worker took it over."""
    statement = (
        update(Inbox)
        .where(Inbox.id == inbox_id, Inbox.owner == owner, Inbox.done_at.is_(None))
        .values(done_at=now, outcome=outcome)
        .returning(Inbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def unfinished(
    session: Session, *, now: datetime, received_before: datetime, max_attempts: int, limit: int
) -> Sequence[tuple[int, str, datetime]]:
    """Requests nobody is working on that should have been done by now: (id, body, received_at)."""
    query = (
        select(Inbox.id, Inbox.body, Inbox.received_at)
        .where(_free(now), Inbox.received_at < received_before, Inbox.attempts < max_attempts)
        .order_by(Inbox.id)
        .limit(limit)
    )
    return [(row.id, row.body, row.received_at) for row in session.execute(query)]


def give_up(session: Session, *, now: datetime, max_attempts: int) -> int:
    """Requests that failed every try (the process died each time): stop retrying them."""
    statement = (
        update(Inbox)
        .where(_free(now), Inbox.attempts >= max_attempts)
        .values(done_at=now, outcome="abandoned")
        .returning(Inbox.id)
        .execution_options(synchronize_session=False)
    )
    return len(session.execute(statement).all())


def forget_done_before(session: Session, before: datetime) -> None:
    session.execute(delete(Inbox).where(Inbox.done_at < before))


def rows(session: Session) -> Sequence[Inbox]:
    return session.scalars(select(Inbox).order_by(Inbox.id)).all()
