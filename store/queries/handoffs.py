"""Queries on hand-offs: transfer requests between reps, operations hand-offs, the posts that show them.

Each takes the caller's session and never commits or closes it.
"""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import (
    OpsHandoff,
    PostedMessage,
    TransferRequest,
)
from store.workspaces import stopped_teams


def transfer(session: Session, *, team_id: str, transfer_id: int) -> TransferRequest | None:
    query = select(TransferRequest).where(
        TransferRequest.team_id == team_id, TransferRequest.id == transfer_id
    )
    return session.scalars(query).one_or_none()


def pending_transfer(session: Session, *, team_id: str, lead_id: int) -> TransferRequest | None:
    query = select(TransferRequest).where(
        TransferRequest.team_id == team_id,
        TransferRequest.lead_id == lead_id,
        TransferRequest.status == "pending",
    )
    return session.scalars(query.order_by(TransferRequest.id)).first()


def pending_transfers(
    session: Session, *, team_id: str | None = None, limit: int | None = None
) -> Sequence[TransferRequest]:
    """Requests waiting for a manager: one team's, oldest first; or every team's, for the scheduler's sweep."""
    query = select(TransferRequest).where(TransferRequest.status == "pending")
    if team_id is None:  # the sweep: not for a workspace that uninstalled Baton
        query = query.where(TransferRequest.team_id.not_in(stopped_teams()))
        return session.scalars(query.order_by(TransferRequest.team_id, TransferRequest.id)).all()
    query = query.where(TransferRequest.team_id == team_id)
    return session.scalars(query.order_by(TransferRequest.created_at).limit(limit)).all()


def transfers_for_lead(session: Session, *, team_id: str, lead_id: int) -> Sequence[TransferRequest]:
    query = select(TransferRequest).where(
        TransferRequest.team_id == team_id, TransferRequest.lead_id == lead_id
    )
    return session.scalars(query.order_by(TransferRequest.created_at.desc(), TransferRequest.id.desc())).all()


def posted_messages(
    session: Session, *, team_id: str, subject: str, subject_id: int
) -> Sequence[PostedMessage]:
    query = select(PostedMessage).where(
        PostedMessage.team_id == team_id,
        PostedMessage.subject == subject,
        PostedMessage.subject_id == subject_id,
    )
    return session.scalars(query.order_by(PostedMessage.id)).all()


def unposted_ops_handoff(session: Session, *, team_id: str, lead_id: int, subject: str) -> OpsHandoff | None:
    """The lead's latest unclaimed hand-off to operations whose card was never posted, if any."""
    posted = select(PostedMessage.id).where(
        PostedMessage.team_id == team_id,
        PostedMessage.subject == subject,
        PostedMessage.subject_id == OpsHandoff.id,
    )
    query = (
        select(OpsHandoff)
        .where(
            OpsHandoff.team_id == team_id,
            OpsHandoff.lead_id == lead_id,
            OpsHandoff.claimed_by.is_(None),
            ~posted.exists(),
        )
        .order_by(OpsHandoff.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def ops_handoff(session: Session, *, team_id: str, handoff_id: int) -> OpsHandoff | None:
    query = select(OpsHandoff).where(OpsHandoff.team_id == team_id, OpsHandoff.id == handoff_id)
    return session.scalars(query).one_or_none()
