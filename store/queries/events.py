"""Queries on the events Slack pushed, so a retried one is acted on once.

Each takes the caller's session and never commits or closes it.
"""

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import (
    SeenEvent,
)


def mark_event_seen(session: Session, *, event_id: str, team_id: str, now: datetime) -> bool:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(SeenEvent)
        .values(event_id=event_id, team_id=team_id, seen_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(SeenEvent.event_id)
    )
    return session.execute(statement).first() is not None


def delete_events_before(session: Session, before: datetime) -> None:
    session.execute(delete(SeenEvent).where(SeenEvent.seen_at < before))
