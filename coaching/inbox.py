"""Requests Baton has acknowledged: kept until they end, done once, resumed after a crash.

A request is received (its row written, leased to the receiving process) before Slack gets the
acknowledgement. The process keeps its leases alive with a heartbeat while it lives. The work
marks the row done as the first statement of the work's own transaction (the take and the mark
at once: no separate take, no lease held by the work itself), so a crash before that commit
leaves both undone and a crash after leaves both done; a second copy of the work finds the row
done and rolls back. A replay of the same signed body, or Slack's retry of an event, finds the
key taken and is not done again.

Every request ends: done, failed (the rep told so), unhandled (no listener for it), or dead
(tried MAX_ATTEMPTS times: the rep told what was not done, with what they typed).
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from coaching.leases import LEASE
from store import inbox as rows
from store.inbox import Kept

# Tries per request, counted per dispatch (the first included); after the last, a dead letter.
MAX_ATTEMPTS = 4
# A passing database error (locked, a lock timeout, no turn to write in time) waits this long
# before the next try, by the number of tries so far: 2 s, then 10 s, then 30 s.
BACKOFF = (timedelta(seconds=2), timedelta(seconds=10), timedelta(seconds=30))
BATCH = 50  # requests one recovery pass takes; the next pass takes the next ones


def request_key(raw_body: str, event_id: str | None = None) -> str:
    """What makes two deliveries the same request: an event's id, or the exact signed body (which
    carries Slack's one-off trigger id, so two commands typed alike are still two)."""
    if event_id:
        return f"event:{event_id}"
    return "body:" + hashlib.sha256(raw_body.encode("utf-8", "surrogatepass")).hexdigest()


def receive(
    session: Session,
    *,
    key: str,
    team_id: str,
    user_id: str,
    kind: str,
    body: str,
    now: datetime,
    owner: str,
) -> int | None:
    """Keep a request before it is acknowledged, leased to `owner`; its id, or None if Baton already has it."""
    return rows.receive(
        session,
        owner=owner,
        lease=LEASE,
        key=key,
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        body=body,
        received_at=now,
    )


def finish(session: Session, inbox_id: int, *, owner: str, now: datetime, outcome: str = "done") -> bool:
    return rows.finish(session, inbox_id, owner=owner, now=now, outcome=outcome)


def wait_after(attempts: int) -> timedelta:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def release(
    session: Session, inbox_id: int, *, owner: str, now: datetime, attempts: int, backoff: bool
) -> bool:
    """Back to the inbox undone: after a passing error, tried again after its backoff (or, its
    tries used up, dead-lettered by the next recovery pass); otherwise free at once."""
    wait = wait_after(attempts) if backoff and attempts < MAX_ATTEMPTS else timedelta(0)
    return rows.release(session, inbox_id, owner=owner, retry_at=now + wait)


def renew(session: Session, *, owner: str) -> int:
    return rows.renew(session, owner=owner, lease=LEASE)


def adopt(session: Session, *, owner: str) -> int:
    return rows.adopt(session, owner=owner)


def hand_back(session: Session, *, owner: str) -> int:
    return rows.hand_back(session, owner=owner)


def anything_to_do(session: Session, *, owner: str, now: datetime) -> bool:
    return rows.anything_free(session, owner=owner, now=now)


def dead_letters(session: Session, *, owner: str, now: datetime) -> list[Kept]:
    """Requests that used up their tries: closed as dead in this transaction, to be told about in it."""
    return rows.dead_letters(session, owner=owner, now=now, max_attempts=MAX_ATTEMPTS, limit=BATCH)


def take_unfinished(session: Session, *, owner: str, now: datetime) -> Sequence[Kept]:
    """Requests to run again, taken for this process: handed back after a passing error, or held
    by a process whose lease ran out (it died). Never this process's own: they are in its queue."""
    return rows.take_free(session, owner=owner, now=now, lease=LEASE, max_attempts=MAX_ATTEMPTS, limit=BATCH)
