"""Queries on the outbox (messages owed) and on digest claims held by a run. Never commits."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, and_, bindparam, case, exists, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from store.leases import database_now
from store.models import Delivery, Outbox, TeamStatus

UNSENT = ("pending", "unknown")
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # a lease set to this has run out for everyone


# Built once, with bound parameters: every command's answer is written, read back by its sender
# and its outcome recorded, and building and keying a statement (or flushing an ORM object) costs
# SQLAlchemy more than running it (issue 19). Plain rows in and out, never ORM objects.
_TABLE = cast(Table, Outbox.__table__)
_GET = select(_TABLE).where(_TABLE.c.id == bindparam("b_id"))
_FINISH: dict[frozenset[str], Any] = {}  # one per set of columns recorded: a handful
_ADD: dict[tuple[str, frozenset[str], float | None], Any] = {}  # per database, columns and lease
# A stopped workspace's rows are never sent (coaching/workspaces.py): its sender's take cancels them.
_RUNNING = ~exists().where(TeamStatus.team_id == _TABLE.c.team_id)


def add(session: Session, *, lease: timedelta | None, **values: object) -> int:
    """Insert one row (`values`: its columns); `lease`: written taken, leased this long from now on
    the database's clock. Its id."""
    dialect = session.get_bind().dialect.name
    key = (dialect, frozenset(values), lease.total_seconds() if lease is not None else None)
    statement = _ADD.get(key)
    if statement is None:
        leased = {"lease_until": database_now(session, lease)} if lease is not None else {}
        columns: dict[str, Any] = {name: bindparam(f"v_{name}") for name in values}
        statement = _ADD[key] = insert(_TABLE).values(**columns, **leased).returning(_TABLE.c.id)
    outbox_id: int = session.execute(statement, {f"v_{k}": v for k, v in values.items()}).scalar_one()
    return outbox_id


def get(session: Session, outbox_id: int) -> Row[Any] | None:
    """The row as it is now: a plain row, read and never changed through the ORM."""
    return session.execute(_GET, {"b_id": outbox_id}).first()


_GET_RUNNING = _GET.where(_RUNNING)


def get_running(session: Session, outbox_id: int) -> Row[Any] | None:
    """The row as it is now, unless its workspace is stopped (then None, as for a row not there)."""
    return session.execute(_GET_RUNNING, {"b_id": outbox_id}).first()


def _free(session: Session, now: datetime) -> ColumnElement[bool]:
    """Unsent and due (on the app's clock, a schedule), or held by a sender whose lease ran out
    (on the database's clock: store/leases.py)."""
    return or_(
        and_(Outbox.status.in_(UNSENT), Outbox.next_attempt_at <= now),
        and_(Outbox.status == "sending", Outbox.lease_until < database_now(session)),
    )


def due(session: Session, *, now: datetime, limit: int, team_id: str | None = None) -> list[int]:
    """Rows to (re)try now: unsent ones whose time has come, and ones whose sender's lease ran out
    (in one workspace, with `team_id`)."""
    query = select(Outbox.id).where(_free(session, now)).order_by(Outbox.id).limit(limit)
    if team_id is not None:
        query = query.where(Outbox.team_id == team_id)
    return list(session.scalars(query))


def take(session: Session, row: Row[Any], *, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take `row` as it was read, if nobody changed it since: `attempts` is its version."""
    statement = (
        update(Outbox)
        .where(
            Outbox.id == row.id,
            Outbox.attempts == row.attempts,
            Outbox.status == row.status,
            _free(session, now),
        )
        .values(
            status="sending",
            owner=owner,
            lease_until=database_now(session, lease),
            attempts=Outbox.attempts + 1,
            # A fresh attempt starts a new window to look in; one in doubt keeps its own. (A row
            # written already taken and never tried has nothing in doubt.)
            tried_at=case(
                (or_(Outbox.status == "pending", Outbox.attempts == 0), now), else_=Outbox.tried_at
            ),
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def renew(session: Session, outbox_id: int, *, owner: str, lease: timedelta) -> bool:
    """Extend the lease of a row this owner is sending; False if it isn't theirs any more."""
    statement = (
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.owner == owner, Outbox.status == "sending")
        .values(lease_until=database_now(session, lease))
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def renew_held(session: Session, held: dict[int, str], *, lease: timedelta) -> set[int]:
    """The heartbeat: the rows this process is sending (at most one per sending thread) are
    leased again from now, each only while its own sender still holds it; the ids renewed."""
    owners: dict[str, list[int]] = {}
    for outbox_id, owner in held.items():
        owners.setdefault(owner, []).append(outbox_id)
    renewed: set[int] = set()
    for owner, ids in owners.items():
        statement = (
            update(Outbox)
            .where(Outbox.id.in_(ids), Outbox.owner == owner, Outbox.status == "sending")
            .values(lease_until=database_now(session, lease))
            .returning(Outbox.id)
            .execution_options(synchronize_session=False)
        )
        renewed.update(session.scalars(statement))
    return renewed


def adopt(session: Session, *, keep: list[int]) -> int:
    """Every row another process was sending, free now: on SQLite, which one process serves,
    that process is the one this one replaced, and dead. (`keep`: the rows this process holds,
    at most one per sending thread.)"""
    statement = (
        update(Outbox)
        .where(Outbox.status == "sending", Outbox.id.not_in(keep))
        .values(lease_until=LONG_AGO)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


_ANSWERING = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("b_id"),
        _TABLE.c.owner == bindparam("b_owner"),
        _TABLE.c.status == "sending",
        _TABLE.c.attempts == 0,
        _RUNNING,
    )
    .values(
        status="sent",
        attempts=1,
        tried_at=bindparam("b_now"),
        finished_at=bindparam("b_now"),
        sent_channel=_TABLE.c.reply_in,  # where an ephemeral would go: recorded before it is tried
    )
    .returning(*_TABLE.c)
)


def answering(session: Session, outbox_id: int, *, owner: str, now: datetime) -> Row[Any] | None:
    """An answer written already taken by `owner` (never tried yet) is recorded as sent as its one
    attempt begins: the row as recorded. None if it isn't (rolled back, taken over by another
    sender, or its workspace stopped)."""
    return session.execute(_ANSWERING, {"b_id": outbox_id, "b_owner": owner, "b_now": now}).first()


def note(session: Session, outbox_id: int, *, owner: str, note: str) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.owner == owner, Outbox.status == "sent")
        .values(error=note)
        .execution_options(synchronize_session=False)
    )


def reopen(session: Session, outbox_id: int, *, owner: str, lease: timedelta) -> bool:
    """An answer recorded as sent when it began, that did not go: held again by its sender, to
    record how it went."""
    statement = (
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.owner == owner, Outbox.status == "sent")
        .values(status="sending", finished_at=None, lease_until=database_now(session, lease))
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def finish(session: Session, outbox_id: int, *, owner: str, **values: object) -> bool:
    """Record an outcome, unless another sender took the row over (then its outcome counts)."""
    return finished(session, outbox_id, owner=owner, **values) is not None


def finished(session: Session, outbox_id: int, *, owner: str, **values: object) -> str | None:
    """`finish`, and what the row says now (its payload, revised perhaps while it was on its way);
    None if another sender took the row over."""
    if any(isinstance(value, ClauseElement) for value in values.values()):  # SQL, not a value: built now
        statement = _finishing(values)
        parameters: dict[str, object] = {"b_id": outbox_id, "b_owner": owner}
    else:
        names = frozenset(values)
        statement = _FINISH.get(names)
        if statement is None:
            statement = _FINISH[names] = _finishing({name: bindparam(f"v_{name}") for name in names})
        parameters = {"b_id": outbox_id, "b_owner": owner, **{f"v_{k}": v for k, v in values.items()}}
    payload: str | None = session.execute(statement, parameters).scalar_one_or_none()
    return payload


def _finishing(values: dict[str, Any]) -> Any:
    return (
        update(_TABLE)
        .where(
            _TABLE.c.id == bindparam("b_id"),
            _TABLE.c.owner == bindparam("b_owner"),
            _TABLE.c.status == "sending",
        )
        .values(values)
        .returning(_TABLE.c.payload)
    )


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


def posts_in_doubt(session: Session, *, team_id: str, subject: str, subject_id: int) -> bool:
    query = select(Outbox.id).where(
        Outbox.team_id == team_id,
        Outbox.subject == subject,
        Outbox.subject_id == subject_id,
        Outbox.method == "post",
        Outbox.status.in_(("unknown", "sending")),
    )
    return session.execute(query.limit(1)).first() is not None


def revise_unsent(session: Session, outbox_id: int, *, payload: str) -> bool:
    statement = (
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.status.in_(("pending", "sending")), Outbox.attempts == 0)
        .values(payload=payload)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


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
