"""Queries that prune finished work (inbox, outbox, delivery) and blank old notes a batch at a time,
and count what is still owed. Never commits: each batch is the caller's own short transaction."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal_column, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from store.models import Delivery, Inbox, OpsHandoff, Outbox, Touch, TransferRequest

# Outcomes and statuses of work that ended well; any other ended row is a dead letter (kept longer).
INBOX_DONE = ("done",)
OUTBOX_DONE = ("sent", "cancelled")
OUTBOX_DEAD = ("failed",)
OUTBOX_OPEN = ("pending", "sending")
DELIVERY_DONE = ("sent", "empty")
DELIVERY_DEAD = ("failed",)


def _delete_some(
    session: Session,
    model: type[Inbox] | type[Outbox] | type[Delivery],
    where: ColumnElement[bool],
    limit: int,
) -> int:
    # The oldest `limit` rows by id, in one statement whose size never grows with the table.
    some = select(model.id).where(where).order_by(model.id).limit(limit).scalar_subquery()
    result = session.execute(
        delete(model).where(model.id.in_(some)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_inbox(session: Session, *, done_before: datetime, dead_before: datetime, limit: int) -> int:
    finished = _delete_some(
        session, Inbox, (Inbox.done_at < done_before) & Inbox.outcome.in_(INBOX_DONE), limit
    )
    dead = Inbox.done_at < dead_before
    return finished + _delete_some(session, Inbox, dead & Inbox.outcome.not_in(INBOX_DONE), limit)


def prune_outbox(session: Session, *, done_before: datetime, dead_before: datetime, limit: int) -> int:
    sent = (Outbox.finished_at < done_before) & Outbox.status.in_(OUTBOX_DONE)
    dead = (Outbox.finished_at < dead_before) & Outbox.status.in_(OUTBOX_DEAD)
    return _delete_some(session, Outbox, sent, limit) + _delete_some(session, Outbox, dead, limit)


def prune_deliveries(session: Session, *, done_before: datetime, dead_before: datetime, limit: int) -> int:
    # A delivery is its day's once-only claim: pruned days ago, its local date is long past.
    sent = (Delivery.finished_at < done_before) & Delivery.status.in_(DELIVERY_DONE)
    dead = (Delivery.finished_at < dead_before) & Delivery.status.in_(DELIVERY_DEAD)
    return _delete_some(session, Delivery, sent, limit) + _delete_some(session, Delivery, dead, limit)


def _blank_some(
    session: Session,
    model: type[Touch] | type[TransferRequest] | type[OpsHandoff],
    where: ColumnElement[bool],
    oldest_first: InstrumentedAttribute[Any],
    blanked: dict[str, Any],
    limit: int,
) -> int:
    # The oldest `limit` rows, in one statement whose size never grows with the table.
    some = select(model.id).where(where).order_by(oldest_first).limit(limit).scalar_subquery()
    result = session.execute(
        update(model).where(model.id.in_(some)).values(blanked).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def blank_notes(session: Session, *, logged_before: datetime, limit: int) -> int:
    """The oldest `limit` notes still written on touches logged before `logged_before`, blanked.
    The partial index on notes still kept (`ix_touch_note_kept`) finds them without reading the
    touches already blanked, however many there are."""
    # A literal '' (not a bound parameter): SQLite uses a partial index only for a term it can match.
    kept = (Touch.note != literal_column("''")) & (Touch.logged_at < logged_before)
    return _blank_some(session, Touch, kept, Touch.logged_at, {"note": ""}, limit)


def blank_reasons(session: Session, *, decided_before: datetime, limit: int) -> int:
    """Up to `limit` transfer requests decided before `decided_before` with their reasons (the rep's,
    and the manager's note on a refusal) blanked; a pending request keeps its reason: the manager
    still has to read it. Requests are few (a handful a rep a month): no index is needed to find them."""
    written = (TransferRequest.reason != "") | (TransferRequest.decision_note != "")
    decided = (TransferRequest.status != "pending") & (TransferRequest.decided_at < decided_before)
    blanked = {"reason": "", "decision_note": None}
    return _blank_some(
        session, TransferRequest, written & decided, TransferRequest.decided_at, blanked, limit
    )


def blank_ops_notes(session: Session, *, created_before: datetime, limit: int) -> int:
    """Up to `limit` notes written on hand-offs to operations before `created_before`, blanked
    (what was sold and the timeline stay: they are the deal, not someone's remarks)."""
    old = (OpsHandoff.notes != "") & (OpsHandoff.created_at < created_before)
    return _blank_some(session, OpsHandoff, old, OpsHandoff.created_at, {"notes": ""}, limit)


@dataclass(frozen=True)
class Counts:
    """What the inbox, the outbox and the deliveries hold, by state."""

    inbox_waiting: int  # acknowledged, not done yet
    inbox_done: int
    inbox_dead: int  # failed or given up: kept longer, for a look
    outbox_pending: int  # owed, not sent yet (or being sent)
    outbox_unknown: int  # sent, but Slack's answer was lost: checked before anything is re-sent
    outbox_sent: int
    outbox_dead: int
    deliveries_open: int
    deliveries_done: int
    deliveries_dead: int


def counts(session: Session) -> Counts:
    def count(model: type[Inbox] | type[Outbox] | type[Delivery], where: ColumnElement[bool]) -> int:
        return int(session.execute(select(func.count()).select_from(model).where(where)).scalar_one())

    return Counts(
        inbox_waiting=count(Inbox, Inbox.done_at.is_(None)),
        inbox_done=count(Inbox, Inbox.done_at.is_not(None) & Inbox.outcome.in_(INBOX_DONE)),
        inbox_dead=count(Inbox, Inbox.done_at.is_not(None) & Inbox.outcome.not_in(INBOX_DONE)),
        outbox_pending=count(Outbox, Outbox.status.in_(OUTBOX_OPEN)),
        outbox_unknown=count(Outbox, Outbox.status == "unknown"),
        outbox_sent=count(Outbox, Outbox.status.in_(OUTBOX_DONE)),
        outbox_dead=count(Outbox, Outbox.status.in_(OUTBOX_DEAD)),
        deliveries_open=count(Delivery, Delivery.status.not_in((*DELIVERY_DONE, *DELIVERY_DEAD))),
        deliveries_done=count(Delivery, Delivery.status.in_(DELIVERY_DONE)),
        deliveries_dead=count(Delivery, Delivery.status.in_(DELIVERY_DEAD)),
    )
