"""Queries on a lead's history, the touch log: a lead's touches, the latest ones, the last tip given, how many.

Each takes the caller's session and never commits or closes it. The ones every /logcall runs are
built once, with bound parameters: building and keying a statement costs SQLAlchemy about five
times what running a built one does (issue 19).
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from store.models import (
    Touch,
)


def touches(session: Session, lead_id: int) -> Sequence[Touch]:
    return session.scalars(select(Touch).where(Touch.lead_id == lead_id).order_by(Touch.at, Touch.id)).all()


# On the table's columns, not the ORM's: plain rows, without the ORM's cost per statement.
_TOUCHES = cast(Table, Touch.__table__).c
_TOUCH_FACTS = (
    select(_TOUCHES.at, _TOUCHES.outcome, _TOUCHES.meeting_on)
    .where(_TOUCHES.lead_id == bindparam("lead_id"))
    .order_by(_TOUCHES.at, _TOUCHES.id)
)


# Every /logcall writes one: an INSERT built once, not an ORM object flushed (issue 19).
_ADD_TOUCH = insert(cast(Table, Touch.__table__)).returning(_TOUCHES.id)


def add_touch(session: Session, **values: object) -> int:
    """Write one touch (`values`: its columns); its id."""
    touch_id: int = session.execute(_ADD_TOUCH, values).scalar_one()
    return touch_id


def touch_facts(session: Session, lead_id: int) -> list[tuple[datetime, str, date | None]]:
    """A lead's log as (at, outcome, meeting_on): the three columns progress is computed from."""
    return [
        (row.at, row.outcome, row.meeting_on) for row in session.execute(_TOUCH_FACTS, {"lead_id": lead_id})
    ]


def recent_touches(session: Session, *, team_id: str, lead_id: int, limit: int) -> Sequence[Touch]:
    query = (
        select(Touch)
        .where(Touch.team_id == team_id, Touch.lead_id == lead_id)
        .order_by(Touch.at.desc(), Touch.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


_LAST_TIP = (
    select(_TOUCHES.tip)
    .where(_TOUCHES.team_id == bindparam("team_id"), _TOUCHES.lead_id == bindparam("lead_id"))
    .order_by(_TOUCHES.logged_at.desc(), _TOUCHES.id.desc())
    .limit(1)
)


def last_tip(session: Session, *, team_id: str, lead_id: int) -> str | None:
    """The tip given with the lead's most recently logged touch (None before any, or for an import)."""
    tip: str | None = session.scalar(_LAST_TIP, {"team_id": team_id, "lead_id": lead_id})
    return tip


_TOUCH_COUNT = (
    select(func.count())
    .select_from(Touch)
    .where(Touch.team_id == bindparam("team_id"), Touch.lead_id == bindparam("lead_id"))
)


def touch_count(session: Session, *, team_id: str, lead_id: int) -> int:
    return session.scalar(_TOUCH_COUNT, {"team_id": team_id, "lead_id": lead_id}) or 0
