"""How long Baton keeps the records of finished work, and one batch of pruning what is older.

Done inbox rows (what reps sent, response URLs included), sent outbox rows (what Baton said) and
delivery records (which digest went to whom on which day) are the working memory of "done once":
a replay inside Slack's five minutes, a lost answer checked before re-sending, a digest not sent
twice on one local day. After `done_days` nothing needs them. Dead letters (work that failed or
was given up on) are kept `dead_days`, long enough for someone to look.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import retention as rows

BATCH = 500  # rows per table per transaction: a few milliseconds of SQLite's write lock
SHORTEST_DAYS = 2  # a delivery record is its local day's once-only claim: keep it past that day


@dataclass(frozen=True)
class Retention:
    done_days: int = 7
    dead_days: int = 30

    def problems(self) -> list[str]:
        found = []
        if self.done_days < SHORTEST_DAYS:
            found.append(f"finished work must be kept at least {SHORTEST_DAYS} days, got {self.done_days}")
        if self.dead_days < self.done_days:
            found.append(f"dead letters must be kept at least as long as finished work, got {self.dead_days}")
        return found


def prune_some(session: Session, *, now: datetime, keep: Retention, limit: int = BATCH) -> int:
    """Up to `limit` of each kind of expired row; how many went. Call again while it returns any."""
    done, dead = now - timedelta(days=keep.done_days), now - timedelta(days=keep.dead_days)
    return sum(
        prune(session, done_before=done, dead_before=dead, limit=limit)
        for prune in (rows.prune_inbox, rows.prune_outbox, rows.prune_deliveries)
    )


DEFAULT_RETENTION = Retention()
