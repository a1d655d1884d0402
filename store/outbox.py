"""Queries on the outbox (messages owed) and on digest claims held by a run. Never commits."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.orm import Session

from store.models import Delivery, Outbox

UNSENT = ("pending", "unknown")


def add(session: Session, row: Outbox) -> int:
    session.add(row)
    session.flush()
    return row.id


def get(session: Session, outbox_id: int) -> Outbox | None:
    return session.get(Outbox, outbox_id, populate_existing=True)


def due(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Rows to (re)try now: unsent ones whose time has come, and ones whose sender's lease ran out."""
    query = (
        select(Outbox.id)
        .where(
            or_(
                and_(Outbox.status.in_(UNSENT), Outbox.next_attempt_at <= now),
                and_(Outbox.status == "sending", Outbox.lease_until < now),
            )
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def take(session: Session, row: Outbox, *, owner: str, now: datetime, lease_until: datetime) -> bool:
    """Take `row` as it was read, if nobody changed it since: `attempts` is its version."""
    statement = (
        update(Outbox)
        .where(
            Outbox.id == row.id,
            Outbox.attempts == row.attempts,
            Outbox.status == row.status,
            or_(
                and_(Outbox.status.in_(UNSENT), Outbox.next_attempt_at <= now),
                and_(Outbox.status == "sending", Outbox.lease_until < now),
            ),
        )
        .values(
            status="sending",
            owner=owner,
            lease_until=lease_until,
            attempts=Outbox.attempts + 1,
            # A fresh attempt starts a new window to look in; one in doubt keeps its own.
            tried_at=case((Outbox.status == "pending", now), else_=Outbox.tried_at),
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def renew(session: Session, outbox_id: int, *, owner: str, lease_until: datetime) -> bool:
    """Extend the lease of a row this owner is sending; False if it isn't theirs any more."""
    statement = (
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.owner == owner, Outbox.status == "sending")
        .values(lease_until=lease_until)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def finish(session: Session, outbox_id: int, *, owner: str, **values: object) -> bool:
    """Record an outcome, unless another sender took the row over (then its outcome counts)."""
    statement = (
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.owner == owner, Outbox.status == "sending")
        .values(**values)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def cancel_unsent(session: Session, *, team_id: str, subject: str, subject_id: int, now: datetime) -> None:
    """Posts certainly not made that a decision made pointless (every earlier try failed for sure)."""
    session.execute(
        update(Outbox)
        .where(
            Outbox.team_id == team_id,
            Outbox.subject == subject,
            Outbox.subject_id == subject_id,
            Outbox.status == "pending",
        )
        .values(status="cancelled", finished_at=now)
        .execution_options(synchronize_session=False)
    )


def revise_in_doubt(session: Session, *, team_id: str, subject: str, subject_id: int, payload: str) -> None:
    """Posts that may be in Slack already (`unknown`, or `sending` right now): whatever happens
    next, what they show is `payload` (posted as that if not found, or changed to it if found)."""
    session.execute(
        update(Outbox)
        .where(
            Outbox.team_id == team_id,
            Outbox.subject == subject,
            Outbox.subject_id == subject_id,
            Outbox.method == "post",
            Outbox.status.in_(("unknown", "sending")),
        )
        .values(payload=payload)
        .execution_options(synchronize_session=False)
    )


def payload_of(session: Session, outbox_id: int) -> str | None:
    return session.scalar(select(Outbox.payload).where(Outbox.id == outbox_id))


def rows(session: Session) -> Sequence[Outbox]:
    return session.scalars(select(Outbox).order_by(Outbox.id)).all()


# ---- digest and review claims ----------------------------------------------------------------------


def renew_claims(session: Session, *, owner: str, now: datetime) -> None:
    """A run still working says so: none of its claims look abandoned to another run."""
    session.execute(
        update(Delivery)
        .where(Delivery.owner == owner, Delivery.status == "claimed")
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )


def queue_delivery(
    session: Session, *, owner: str, team_id: str, user_id: str, kind: str, local_date: date, status: str
) -> int | None:
    """Move this run's claim to `status` (queued for the outbox, or empty); its id, or None if lost."""
    statement = (
        update(Delivery)
        .where(
            Delivery.team_id == team_id,
            Delivery.user_id == user_id,
            Delivery.kind == kind,
            Delivery.local_date == local_date,
            Delivery.owner == owner,
            Delivery.status == "claimed",
        )
        .values(status=status)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def settle_delivery(
    session: Session,
    delivery_id: int,
    *,
    status: str,
    now: datetime,
    channel: str | None = None,
    ts: str | None = None,
    error: str | None = None,
) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status=status, finished_at=now, channel=channel, ts=ts, error=error)
        .execution_options(synchronize_session=False)
    )
