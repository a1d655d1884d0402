"""A workspace's life with Baton: stopped at once when it uninstalls Baton (or revokes its bot
token), its data deleted after a grace period, and picked up where it stopped if it comes back.

While stopped, Baton does nothing for the team: its owed messages end as cancelled, and the
clock's jobs (digests, reviews, hand-off reminders, the directory, the CRM sync) leave it out.
Its data stays, for `python -m bot export --team`, until `delete_after`; then the tidy deletes
every row of it, a short batch at a time (`forget_some`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import workspaces as rows

UNINSTALLED = "app_uninstalled"
REVOKED = "tokens_revoked"


@dataclass(frozen=True)
class Stopped:
    team_id: str
    uninstalled_at: datetime
    delete_after: datetime
    cancelled: int  # messages that were still owed to the team


def uninstall(session: Session, *, team_id: str, now: datetime, grace: timedelta, reason: str) -> Stopped:
    """Stop the team now; its data goes after `grace`."""
    status = rows.stop(session, team_id=team_id, now=now, delete_after=now + grace, reason=reason)
    cancelled = rows.cancel_owed(session, team_id=team_id, now=now)
    return Stopped(team_id, status.uninstalled_at, status.delete_after, cancelled)


def reinstalled(session: Session, *, team_id: str) -> bool:
    """The team installed Baton again (or its token works again): everything runs for it as before.
    True if it had been stopped."""
    return rows.resume(session, team_id)


def any_stopped(session: Session) -> bool:
    """Whether Baton is stopped for any workspace (one uninstalled it and may install it again)."""
    return bool(rows.stopped_list(session))


def is_stopped(session: Session, team_id: str) -> bool:
    return rows.is_stopped(session, team_id)


def cancel_if_stopped(session: Session, *, team_id: str, outbox_id: int, now: datetime) -> bool:
    """A message owed to a stopped team is cancelled instead of sent; True if it was."""
    if not rows.is_stopped(session, team_id):
        return False
    rows.cancel_owed(session, team_id=team_id, now=now, outbox_id=outbox_id)
    return True


def due_for_deletion(session: Session, *, now: datetime) -> list[str]:
    return rows.due_for_deletion(session, now=now)


@dataclass(frozen=True)
class Forgetting:
    """Where a team's deletion stands: the next table to delete from, and how many rows the batch took."""

    table: int
    deleted: int
    finished: bool = False
    stopped: bool = False  # reinstalled meanwhile: nothing more is deleted


def forget_some(session: Session, *, team_id: str, now: datetime, table: int, limit: int) -> Forgetting:
    """Delete up to `limit` of the team's rows from the first table, from `table` on, that still
    has some. Its status row goes last, in the batch that finds nothing else left."""
    if not rows.still_due(session, team_id=team_id, now=now):
        return Forgetting(table, 0, stopped=True)
    tables = rows.team_tables()
    for index in range(table, len(tables)):
        deleted = rows.delete_some(session, tables[index], team_id=team_id, limit=limit)
        if deleted:
            return Forgetting(index, deleted, finished=index == len(tables) - 1)
    return Forgetting(len(tables), 0, finished=True)
