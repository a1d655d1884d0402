"""Queries on a team as its managers see it: the leads whose owner left.

Each takes the caller's session and never commits or closes it.
"""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import (
    Lead,
    Rep,
)


def orphaned_leads(session: Session, *, team_id: str, limit: int) -> Sequence[Lead]:
    """Open leads whose owner's Slack account is deactivated."""
    departed = select(Rep.user_id).where(Rep.team_id == team_id, Rep.deactivated.is_(True))
    query = (
        select(Lead)
        .where(Lead.team_id == team_id, Lead.status == "open", Lead.owner_id.in_(departed))
        .order_by(Lead.owner_id, Lead.name_key)
        .limit(limit)
    )
    return session.scalars(query).all()
