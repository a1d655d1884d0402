"""Queries on leads: one by id or name, candidates for what a rep typed, a rep's pipeline, recent wins, contacts.

Each takes the caller's session and never commits or closes it. The ones every /logcall runs are
built once, with bound parameters: building and keying a statement costs SQLAlchemy about five
times what running a built one does (issue 19).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from store.models import (
    Contact,
    Lead,
)

_LEAD = select(Lead).where(Lead.team_id == bindparam("team_id"), Lead.id == bindparam("lead_id"))
# FOR UPDATE on PostgreSQL. Re-read the row once locked: a copy loaded earlier in this transaction
# may predate the change the lock waited for.
_LEAD_LOCKED = _LEAD.with_for_update().execution_options(populate_existing=True)


def lead(session: Session, *, team_id: str, lead_id: int, for_update: bool = False) -> Lead | None:
    if for_update and session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: this transaction has held the whole database since its BEGIN
        # IMMEDIATE, so a copy loaded in it is the row as it is now (and Baton changes leads only
        # through the ORM, never behind a loaded copy's back). One read per /logcall fewer.
        held = session.get(Lead, lead_id)
        return held if held is not None and held.team_id == team_id else None
    query = _LEAD_LOCKED if for_update else _LEAD
    return session.scalars(query, {"team_id": team_id, "lead_id": lead_id}).one_or_none()


def lead_by_key(session: Session, *, team_id: str, key: str) -> Lead | None:
    return session.scalars(select(Lead).where(Lead.team_id == team_id, Lead.name_key == key)).one_or_none()


CandidateRow = tuple[int, str, str, str]  # id, name, status, owner


def lead_candidates(
    session: Session, *, team_id: str, keys: Sequence[str], limit: int = 5000
) -> list[CandidateRow]:
    """Leads whose name starts with, or has a word starting with, the first word typed.

    Plain rows, not ORM objects: a common first word ("the", "acme") can match thousands of leads.
    When it matches more than `limit`, the first two words narrow it instead.
    """
    if not keys:
        return []
    rows = _candidates(session, team_id=team_id, key=keys[0], limit=limit + 1)
    if len(rows) > limit and len(keys) > 1:
        rows = _candidates(session, team_id=team_id, key=f"{keys[0]} {keys[1]}", limit=limit)
    return rows[:limit]


class _Finds(FunctionElement[int]):
    """Where `needle` first occurs in `haystack` (from 1), 0 when nowhere: a plain search for the
    text as it is (no pattern characters to escape), `instr` on SQLite and `strpos` on PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(_Finds)
def _finds(element: _Finds, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_Finds, "postgresql")
def _finds_postgres(element: _Finds, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


# The name starts with the key or has a word that does: " " + the name contains " " + the key, one
# plain search a lead, a third faster than a substring test and an escaped LIKE on PostgreSQL. The
# names are matched in the subquery, which needs only (team_id, name_key): the unique index on
# those two columns has them all, so SQLite reads the index, never the table (its planner
# otherwise walked another index by team and read every lead's row: twice the time at 10,000
# leads), and only the leads matched are read whole. On the table's columns, not the ORM's: plain
# rows, without the ORM's cost per statement (issue 19).
_LEADS = cast(Table, Lead.__table__).c
_MATCHED = (
    select(_LEADS.id)
    .where(
        _LEADS.team_id == bindparam("team_id"),
        _Finds(literal(" ") + _LEADS.name_key, bindparam("spaced")) > 0,
    )
    .limit(bindparam("limit"))
)
_CANDIDATES = select(_LEADS.id, _LEADS.name, _LEADS.status, _LEADS.owner_id).where(_LEADS.id.in_(_MATCHED))


def _candidates(session: Session, *, team_id: str, key: str, limit: int) -> list[CandidateRow]:
    values = {"team_id": team_id, "spaced": " " + key, "limit": limit}
    return [(row.id, row.name, row.status, row.owner_id) for row in session.execute(_CANDIDATES, values)]


def lead_names(session: Session, *, team_id: str) -> Sequence[str]:
    return session.scalars(select(Lead.name).where(Lead.team_id == team_id)).all()


def contacts(session: Session, *, team_id: str, lead_id: int) -> Sequence[Contact]:
    query = (
        select(Contact)
        .where(Contact.team_id == team_id, Contact.lead_id == lead_id)
        .order_by(Contact.added_at, Contact.id)
    )
    return session.scalars(query).all()


def owned_leads(
    session: Session, *, team_id: str, owner_id: str, statuses: Sequence[str], limit: int | None = None
) -> Sequence[Lead]:
    """A rep's leads, the earliest follow-up first (leads with none last, on every backend)."""
    query = select(Lead).where(Lead.team_id == team_id, Lead.owner_id == owner_id, Lead.status.in_(statuses))
    order = (Lead.next_follow_up.is_(None), Lead.next_follow_up, Lead.name_key)
    return session.scalars(query.order_by(*order).limit(limit)).all()


def search_leads(session: Session, *, team_id: str, key: str, limit: int) -> Sequence[Lead]:
    """For pickers: names starting with the text first, then names containing it."""
    starts = func.substr(Lead.name_key, 1, len(key)) == key
    query = (
        select(Lead)
        .where(Lead.team_id == team_id, Lead.name_key.contains(key, autoescape=True))
        .order_by(starts.desc(), Lead.name_key)
        .limit(limit)
    )
    return session.scalars(query).all()


def recent_wins(
    session: Session, *, team_id: str, owner_id: str, since: datetime, limit: int
) -> Sequence[Lead]:
    query = select(Lead).where(
        Lead.team_id == team_id, Lead.owner_id == owner_id, Lead.status == "won", Lead.closed_at >= since
    )
    return session.scalars(query.order_by(Lead.closed_at.desc()).limit(limit)).all()
