"""Where hand-off requests and cards were posted, to change them after a decision or a claim."""

from datetime import datetime

from sqlalchemy.orm import Session

from store import queries
from store.models import PostedMessage

TRANSFER = "transfer"  # PostedMessage subjects
OPS = "ops"


def remember_posts(
    session: Session,
    *,
    team_id: str,
    subject: str,
    subject_id: int,
    posted: list[tuple[str, str]],
    now: datetime,
) -> None:
    for channel, ts in posted:
        message = PostedMessage(
            team_id=team_id, subject=subject, subject_id=subject_id, channel=channel, ts=ts, posted_at=now
        )
        session.add(message)


def posts(session: Session, *, team_id: str, subject: str, subject_id: int) -> list[tuple[str, str]]:
    return [
        (p.channel, p.ts)
        for p in queries.handoffs.posted_messages(
            session, team_id=team_id, subject=subject, subject_id=subject_id
        )
    ]
