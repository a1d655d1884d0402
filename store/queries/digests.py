"""Queries behind the morning digests and the weekly reviews: who owns what, and the delivery records.

Each of these is one statement whatever the number of reps: the digest batch must not grow a
query per rep or per lead.

Each takes the caller's session and never commits or closes it.
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import (
    Delivery,
    Lead,
)


def lead_owners(session: Session) -> set[tuple[str, str]]:
    query = select(Lead.team_id, Lead.owner_id).where(Lead.status.in_(("open", "won"))).distinct()
    return {(row.team_id, row.owner_id) for row in session.execute(query)}


def teams_with_leads(session: Session) -> list[str]:
    return list(session.scalars(select(Lead.team_id).distinct()))


# The team, then exactly `LeadSnapshot`'s fields in order: snapshots are built positionally from these rows.
NUDGE_COLUMNS = (
    Lead.team_id,
    Lead.id,
    Lead.name,
    Lead.owner_id,
    Lead.status,
    Lead.created_at,
    Lead.closed_at,
    Lead.lost_reason,
    Lead.opted_out_at,
    Lead.attempts,
    Lead.reached,
    Lead.ever_reached,
    Lead.last_touch_at,
    Lead.last_contact_at,
    Lead.next_follow_up,
    Lead.meeting_on,
    Lead.snoozed_until,
    Lead.meeting_reminded,
    Lead.declined,
)


def nudge_leads(session: Session, *, team_ids: Sequence[str], owner_id: str | None = None) -> Iterator[Any]:
    """Open leads and customers of these teams, as plain rows, streamed from one query."""
    query = select(*NUDGE_COLUMNS).where(Lead.team_id.in_(team_ids), Lead.status.in_(("open", "won")))
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    yield from session.execute(query.execution_options(yield_per=2000))


def claim_deliveries(
    session: Session, rows: Sequence[Mapping[str, object]], *, now: datetime, owner: str
) -> set[tuple[str, str]]:
    """Insert the rows nobody has claimed yet; the (team, person) pairs that were inserted."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery)
        .values(status="claimed", attempts=1, claimed_at=now, owner=owner)
        .on_conflict_do_nothing(index_elements=["team_id", "user_id", "kind", "local_date"])
        .returning(Delivery.team_id, Delivery.user_id)
    )
    claimed = session.execute(statement, rows)
    return {(row.team_id, row.user_id) for row in claimed}


def reclaim_deliveries(
    session: Session,
    rows: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    owner: str,
    abandoned_before: datetime,
    force: bool,
) -> set[tuple[str, str]]:
    """Take back claims whose run stopped renewing them (it died), or all of them when forced."""
    kind = rows[0]["kind"]
    keys = [(r["team_id"], r["user_id"], r["local_date"]) for r in rows]
    abandoned = (Delivery.status == "claimed") & (Delivery.claimed_at < abandoned_before)
    statement = (
        update(Delivery)
        .where(
            Delivery.kind == kind,
            tuple_(Delivery.team_id, Delivery.user_id, Delivery.local_date).in_(keys),
            Delivery.claimed_at < now if force else abandoned,
        )
        .values(status="claimed", attempts=Delivery.attempts + 1, claimed_at=now, owner=owner, error=None)
        .returning(Delivery.team_id, Delivery.user_id)
        .execution_options(synchronize_session=False)
    )
    return {(row.team_id, row.user_id) for row in session.execute(statement)}


def deliveries(session: Session, *, kind: str | None = None) -> Sequence[Delivery]:
    query = select(Delivery).order_by(Delivery.team_id, Delivery.user_id, Delivery.local_date)
    if kind is not None:
        query = query.where(Delivery.kind == kind)
    return session.scalars(query).all()
