"""Queries on drafts: what a rep typed while Baton asks which lead (or date) they meant.

Each takes the caller's session and never commits or closes it.
"""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.models import (
    Draft,
)


def draft(session: Session, *, team_id: str, draft_id: int) -> Draft | None:
    return session.scalars(select(Draft).where(Draft.team_id == team_id, Draft.id == draft_id)).one_or_none()


def delete_drafts_before(session: Session, before: datetime) -> None:
    session.execute(delete(Draft).where(Draft.created_at < before))
