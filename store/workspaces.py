"""Queries on a workspace's life: stopped when it uninstalls Baton, and every row of it deleted, a
batch at a time, after the grace period. Never commits: each batch is the caller's own short
transaction."""

from datetime import datetime

from sqlalchemy import ColumnElement, Select, Table, delete, select, tuple_, update
from sqlalchemy.orm import Session

from store.models import Base, Outbox, TeamStatus

OWED = ("pending", "sending", "unknown")  # an outbox row not settled yet


def stopped_teams() -> Select[tuple[str]]:
    """The teams Baton does nothing for: a subquery to leave them out of a job's query."""
    return select(TeamStatus.team_id)


def is_stopped(session: Session, team_id: str) -> bool:
    return session.get(TeamStatus, team_id) is not None


def status(session: Session, team_id: str) -> TeamStatus | None:
    return session.get(TeamStatus, team_id, populate_existing=True)


def stopped_list(session: Session) -> list[TeamStatus]:
    """Every stopped team, the next to be deleted first."""
    return list(session.scalars(select(TeamStatus).order_by(TeamStatus.delete_after, TeamStatus.team_id)))


def stop(session: Session, *, team_id: str, now: datetime, delete_after: datetime, reason: str) -> TeamStatus:
    """Mark the team stopped, unless it is already: the first uninstall's times stand (a second
    `tokens_revoked` after `app_uninstalled` must not push the deletion back)."""
    found = status(session, team_id)
    if found is not None:
        return found
    found = TeamStatus(team_id=team_id, uninstalled_at=now, delete_after=delete_after, reason=reason)
    session.add(found)
    session.flush()
    return found


def resume(session: Session, team_id: str) -> bool:
    """The team is back (reinstalled): its status goes, and everything runs for it again."""
    result = session.execute(
        delete(TeamStatus).where(TeamStatus.team_id == team_id).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_owed(session: Session, *, team_id: str, now: datetime, outbox_id: int | None = None) -> int:
    """Messages owed to a stopped team end as cancelled (its token no longer works; nothing is retried).
    `outbox_id`: only that one."""
    where: ColumnElement[bool] = (Outbox.team_id == team_id) & Outbox.status.in_(OWED)
    if outbox_id is not None:
        where = where & (Outbox.id == outbox_id)
    result = session.execute(
        update(Outbox)
        .where(where)
        .values(status="cancelled", finished_at=now, error="the workspace uninstalled Baton")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_for_deletion(session: Session, *, now: datetime) -> list[str]:
    query = select(TeamStatus.team_id).where(TeamStatus.delete_after <= now).order_by(TeamStatus.delete_after)
    return list(session.scalars(query))


def still_due(session: Session, *, team_id: str, now: datetime) -> bool:
    """Checked in each deletion batch's own transaction: a reinstall meanwhile stops the deletion."""
    found = status(session, team_id)
    return found is not None and found.delete_after <= now


def team_tables() -> list[Table]:
    """Every table holding a team's rows, children before parents (so no foreign key is ever left
    pointing at a deleted row), the team's status last: while it is there, the deletion resumes."""
    tables = [t for t in reversed(Base.metadata.sorted_tables) if "team_id" in t.c]
    status_table = TeamStatus.__table__
    return [t for t in tables if t is not status_table] + [status_table]


def delete_some(session: Session, table: Table, *, team_id: str, limit: int) -> int:
    """Up to `limit` of the team's rows in `table`, in one statement whose size never grows."""
    key = list(table.primary_key.columns)
    chosen = select(*key).where(table.c.team_id == team_id).limit(limit)
    # One key column: `id IN (…)`; a composite key (a team's settings, managers): row values.
    which = key[0].in_(chosen.scalar_subquery()) if len(key) == 1 else tuple_(*key).in_(chosen)
    result = session.execute(delete(table).where(which).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
