"""Queries behind the morning digests and the weekly reviews: who owns what, and the delivery records.

Each of these is one statement whatever the number of reps: the digest batch must not grow a
query per rep or per lead.

Each takes the caller's session and never commits or closes it.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    String,
    Subquery,
    Text,
    exists,
    func,
    literal,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import TypeEngine

from store.models import (
    Delivery,
    Lead,
)
from store.types import UtcDateTime
from store.workspaces import stopped_teams


def lead_owners(session: Session) -> set[tuple[str, str]]:
    query = select(Lead.team_id, Lead.owner_id).where(Lead.status.in_(("open", "won"))).distinct()
    return {(row.team_id, row.owner_id) for row in session.execute(query)}


def teams_with_leads(session: Session) -> list[str]:
    return list(session.scalars(select(Lead.team_id).where(Lead.team_id.not_in(stopped_teams())).distinct()))


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
    Lead.counting_since,
)

# The team and the owner, then exactly `NudgeLead`'s fields in order: what a digest or a review reads
# of a lead, and no more (each column left out is one value fewer to convert, a million times a morning).
BRIEF_COLUMNS = (
    Lead.team_id,
    Lead.owner_id,
    Lead.id,
    Lead.name,
    Lead.status,
    Lead.created_at,
    Lead.opted_out_at,
    Lead.attempts,
    Lead.reached,
    Lead.last_touch_at,
    Lead.last_contact_at,
    Lead.next_follow_up,
    Lead.meeting_on,
    Lead.snoozed_until,
    Lead.meeting_reminded,
    Lead.declined,
    Lead.counting_since,
)


def nudge_leads(
    session: Session,
    *,
    team_ids: Sequence[str],
    owner_id: str | None = None,
    customers: bool = True,
    brief: bool = False,
) -> Iterator[Any]:
    """Open leads and customers (or open leads only) of these teams, as plain rows, streamed from
    one query: `NUDGE_COLUMNS`, or `BRIEF_COLUMNS` when `brief`."""
    statuses = ("open", "won") if customers else ("open",)
    query = select(*(BRIEF_COLUMNS if brief else NUDGE_COLUMNS)).where(
        Lead.team_id.in_(team_ids), Lead.status.in_(statuses)
    )
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    # Through the session's connection, not the ORM: plain columns need none of its row loading,
    # which cost a third of a morning's digests for a million leads.
    yield from session.connection().execute(query.execution_options(yield_per=2000))


def delivery_keys(session: Session, rows: Sequence[Mapping[str, object]]) -> Subquery:
    """The (team, person, local day) keys of `rows` as a table to join on, sent as values, not SQL.

    A statement with an `IN (…)` list or a `VALUES` row per person grows with the team, and
    PostgreSQL refuses one of a few thousand tuples outright ("stack depth limit exceeded"). Here
    the keys travel as bound values (arrays unnested on PostgreSQL, one JSON array on SQLite), so
    the statement's text is the same for ten people as for ten thousand.
    """
    return _values(
        session,
        [("team_id", Text), ("user_id", Text), ("local_date", Date)],
        [(r["team_id"], r["user_id"], r["local_date"]) for r in rows],
    )


def _values(
    session: Session, columns: Sequence[tuple[str, type[TypeEngine[Any]]]], rows: Sequence[Sequence[object]]
) -> Subquery:
    """`rows` as a table with these columns, bound as values whatever their number (see `delivery_keys`)."""
    names = [name for name, _ in columns]
    if session.get_bind().dialect.name == "postgresql":
        keys = (
            func.unnest(
                *(literal([row[i] for row in rows], ARRAY(kind)) for i, (_, kind) in enumerate(columns))
            )
            .table_valued(*names, name="k")
            .render_derived()
        )
        return select(*(keys.c[name] for name in names)).subquery("keys")
    packed = json.dumps([[str(value) for value in row] for row in rows])
    each = func.json_each(literal(packed, Text)).table_valued("value", name="each")
    return select(
        *(func.json_extract(each.c.value, f"$[{i}]").label(name) for i, name in enumerate(names))
    ).subquery("keys")


def owners_leads(session: Session, owners: Sequence[tuple[str, str]]) -> Iterator[Any]:
    """The open leads and customers of these (team, person) pairs, as `BRIEF_COLUMNS`.

    One statement joined on the pairs sent as values: a clock process that claimed a share of the
    team's digests reads its share's leads, not the whole team's.
    """
    if not owners:
        return
    pairs = _values(session, [("team_id", Text), ("user_id", Text)], owners)
    query = (
        select(*BRIEF_COLUMNS)
        .join(pairs, (Lead.team_id == pairs.c.team_id) & (Lead.owner_id == pairs.c.user_id))
        .where(Lead.status.in_(("open", "won")))
    )
    yield from session.connection().execute(query.execution_options(yield_per=2000))


def claim_deliveries(
    session: Session,
    rows: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    owner: str,
    share: int | None = None,
) -> set[tuple[str, str]]:
    """Insert the rows nobody has claimed yet; the (team, person) pairs that were inserted.

    One statement for the whole batch (an `INSERT … SELECT` from the keys), however many people.
    With `share`, at most that many, taken in the order of `rows` among those nobody holds: clock
    processes that each claim a share split a morning between them."""
    if not rows:
        return set()
    keys = delivery_keys(session, rows)
    claims = select(
        keys.c.team_id,
        keys.c.user_id,
        literal(rows[0]["kind"], String).label("kind"),
        keys.c.local_date,
        literal("claimed", String).label("status"),
        literal(1).label("attempts"),
        literal(now, UtcDateTime()).label("claimed_at"),
        literal(owner, String).label("owner"),
    ).where(true())  # SQLite reads `SELECT … FROM x ON CONFLICT` as a join without a WHERE before it
    if share is not None:
        held = aliased(Delivery)
        unclaimed = ~exists().where(
            held.team_id == keys.c.team_id,
            held.user_id == keys.c.user_id,
            held.kind == rows[0]["kind"],
            held.local_date == keys.c.local_date,
        )
        claims = claims.where(unclaimed).limit(share)
    # Inserted in key order, whichever share was chosen: clocks claiming at once wait for each
    # other's claims in the same order, never in opposite ones (on PostgreSQL a deadlock, one
    # clock's share killed until the next tick).
    chosen = claims.subquery()
    claims = select(*chosen.c).where(true()).order_by(chosen.c.team_id, chosen.c.user_id, chosen.c.local_date)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery)
        .from_select(
            ["team_id", "user_id", "kind", "local_date", "status", "attempts", "claimed_at", "owner"], claims
        )
        .on_conflict_do_nothing(index_elements=["team_id", "user_id", "kind", "local_date"])
        .returning(Delivery.team_id, Delivery.user_id)
    )
    return {(row.team_id, row.user_id) for row in session.execute(statement)}


def among(keys: Subquery) -> ColumnElement[bool]:
    """The delivery's (team, person, day) is one of `keys`: an `IN (SELECT …)`, which both databases
    answer from a hashed or indexed copy of the keys (a correlated EXISTS re-read them per row)."""
    return tuple_(Delivery.team_id, Delivery.user_id, Delivery.local_date).in_(
        select(keys.c.team_id, keys.c.user_id, keys.c.local_date)
    )


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
    if not rows:
        return set()
    abandoned = (Delivery.status == "claimed") & (Delivery.claimed_at < abandoned_before)
    statement = (
        update(Delivery)
        .where(
            Delivery.kind == rows[0]["kind"],
            among(delivery_keys(session, rows)),
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
