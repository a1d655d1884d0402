"""Queries for erasing a person on request: where their details and the notes naming them live.

Each takes the caller's session and never commits or closes it.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from store.models import Contact, Erasure, Inbox, Lead, OpsHandoff, Outbox, Touch, TransferRequest


def contacts_by_email(session: Session, *, team_id: str | None, email: str) -> Sequence[Contact]:
    """Every contact with this e-mail (case aside), in one team or in every team."""
    query = select(Contact).where(func.lower(Contact.email) == email.strip().lower())
    if team_id is not None:
        query = query.where(Contact.team_id == team_id)
    return session.scalars(query.order_by(Contact.id).with_for_update()).all()


def contact(session: Session, *, contact_id: int) -> Contact | None:
    return session.get(Contact, contact_id, with_for_update=True)


def lead_texts(
    session: Session, *, team_id: str, lead_id: int
) -> tuple[Sequence[Touch], Sequence[TransferRequest], Sequence[OpsHandoff]]:
    """A lead's free text: its touches' notes, its hand-off reasons, its operations hand-offs."""
    touches = session.scalars(
        select(Touch).where(Touch.team_id == team_id, Touch.lead_id == lead_id).with_for_update()
    ).all()
    transfers = session.scalars(
        select(TransferRequest).where(TransferRequest.team_id == team_id, TransferRequest.lead_id == lead_id)
    ).all()
    ops = session.scalars(
        select(OpsHandoff).where(OpsHandoff.team_id == team_id, OpsHandoff.lead_id == lead_id)
    ).all()
    return touches, transfers, ops


def drop_finished_requests(session: Session, *, team_id: str, needles: Sequence[str]) -> int:
    """Delete the finished inbox and outbox rows of a team whose kept text names any of `needles`
    (lower case): what a rep typed and what Baton sent, kept only for retries and records."""
    if not needles:
        return 0

    def naming(column: Any) -> ColumnElement[bool]:
        return or_(*(func.lower(column).contains(needle, autoescape=True) for needle in needles))

    inbox = session.execute(
        delete(Inbox).where(Inbox.team_id == team_id, Inbox.done_at.is_not(None), naming(Inbox.body))
    )
    outbox = session.execute(
        delete(Outbox).where(
            Outbox.team_id == team_id, Outbox.status.in_(("sent", "failed")), naming(Outbox.payload)
        )
    )
    return int(getattr(inbox, "rowcount", 0) or 0) + int(getattr(outbox, "rowcount", 0) or 0)


def fingerprints(session: Session, *, team_id: str) -> set[str]:
    """The team's erasure fingerprints: a handful of rows, read once per import or sync."""
    return set(session.scalars(select(Erasure.fingerprint).where(Erasure.team_id == team_id)))


def leads_of(session: Session, *, lead_ids: Sequence[int]) -> Sequence[Lead]:
    return (
        session.scalars(select(Lead).where(Lead.id.in_(lead_ids)).with_for_update()).all() if lead_ids else []
    )
