"""Requests Baton has acknowledged: kept until done, done once, resumed after a crash.

A request is received (its row written) before Slack gets the acknowledgement. The worker that
takes it holds a lease; the work marks it done in the work's own transaction, so a crash before
that commit leaves it undone (and the work undone), and a crash after leaves both done. A replay
of the same signed body, or Slack's retry of an event, finds the key taken and is not done again.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import inbox as rows

LEASE = timedelta(minutes=1)  # far longer than any one request takes; a dead worker's lease runs out
RESUME_AFTER = timedelta(seconds=10)  # an untaken request this old is not waiting in a live queue
MAX_ATTEMPTS = 3  # a request that killed its worker three times is not tried a fourth
KEEP_DONE = timedelta(days=2)  # replays are refused for this long (Slack's window is 5 minutes)


def request_key(raw_body: str, event_id: str | None = None) -> str:
    """What makes two deliveries the same request: an event's id, or the exact signed body (which
    carries Slack's one-off trigger id, so two commands typed alike are still two)."""
    if event_id:
        return f"event:{event_id}"
    return "body:" + hashlib.sha256(raw_body.encode("utf-8", "surrogatepass")).hexdigest()


def receive(
    session: Session, *, key: str, team_id: str, user_id: str, kind: str, body: str, now: datetime
) -> int | None:
    """Keep a request before it is acknowledged; its id, or None if Baton already has it."""
    return rows.receive(
        session,
        key=key,
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        body=body,
        received_at=now,
        attempts=0,
    )


def take(session: Session, inbox_id: int, *, owner: str, now: datetime) -> bool:
    return rows.take(session, inbox_id, owner=owner, now=now, lease_until=now + LEASE)


def finish(session: Session, inbox_id: int, *, owner: str, now: datetime, outcome: str = "done") -> bool:
    return rows.finish(session, inbox_id, owner=owner, now=now, outcome=outcome)


def unfinished(session: Session, *, now: datetime, limit: int = 200) -> Sequence[tuple[int, str, datetime]]:
    """Requests to run again: untaken for a while (their process died with them queued), or taken
    by a worker whose lease ran out (it died mid-work). Hopeless ones are closed first."""
    rows.give_up(session, now=now, max_attempts=MAX_ATTEMPTS)
    return rows.unfinished(
        session, now=now, received_before=now - RESUME_AFTER, max_attempts=MAX_ATTEMPTS, limit=limit
    )


def forget_old(session: Session, *, now: datetime) -> None:
    rows.forget_done_before(session, now - KEEP_DONE)
