"""How long Baton keeps what it keeps, and one batch of pruning (or blanking) what is older.

Done inbox rows (what reps sent, response URLs included), sent outbox rows (what Baton said) and
delivery records (which digest went to whom on which day) are the working memory of "done once":
a replay inside Slack's five minutes, a lost answer checked before re-sending, a digest not sent
twice on one local day. After `done_days` nothing needs them. Dead letters (work that failed or
was given up on) are kept `dead_days`, long enough for someone to look.

A touch's free-text note is what a rep reads back before the next call on a lead: after
`notes_days` it is blanked (the touch itself stays, with its date and outcome, so counts, cadence
and the weekly review don't change). The other remarks people write about customers and
colleagues go after the same time: a decided transfer request's reason (the decision stays) and
a hand-off to operations' notes (what was sold and the timeline stay). A workspace that uninstalled Baton is deleted whole after
`uninstall_grace_days` (coaching/workspaces.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import retention as rows

BATCH = 500  # rows per table per transaction: a few milliseconds of SQLite's write lock
SHORTEST_DAYS = 2  # a delivery record is its local day's once-only claim: keep it past that day
# A note is read back across a sales cycle (90 days by default, a lapsed customer's 120): never less.
SHORTEST_NOTES_DAYS = 30


@dataclass(frozen=True)
class Retention:
    done_days: int = 7
    dead_days: int = 30
    notes_days: int = 365  # a touch's note, after it was logged
    uninstall_grace_days: int = 30  # an uninstalled workspace's data, after the uninstall

    def problems(self) -> list[str]:
        found = []
        if self.done_days < SHORTEST_DAYS:
            found.append(f"finished work must be kept at least {SHORTEST_DAYS} days, got {self.done_days}")
        if self.dead_days < self.done_days:
            found.append(f"dead letters must be kept at least as long as finished work, got {self.dead_days}")
        if self.notes_days < SHORTEST_NOTES_DAYS:
            found.append(
                f"touches' notes must be kept at least {SHORTEST_NOTES_DAYS} days, got {self.notes_days}"
            )
        return found


def prune_some(session: Session, *, now: datetime, keep: Retention, limit: int = BATCH) -> int:
    """Up to `limit` of each kind of expired row; how many went. Call again while it returns any."""
    done, dead = now - timedelta(days=keep.done_days), now - timedelta(days=keep.dead_days)
    return sum(
        prune(session, done_before=done, dead_before=dead, limit=limit)
        for prune in (rows.prune_inbox, rows.prune_outbox, rows.prune_deliveries)
    )


def blank_old_notes(session: Session, *, now: datetime, keep: Retention, limit: int = BATCH) -> int:
    """Blank up to `limit` of each kind of free text written more than `notes_days` ago (touches'
    notes, decided transfer requests' reasons, hand-offs to operations' notes); how many. Call
    again while it returns any."""
    before = now - timedelta(days=keep.notes_days)
    return (
        rows.blank_notes(session, logged_before=before, limit=limit)
        + rows.blank_reasons(session, decided_before=before, limit=limit)
        + rows.blank_ops_notes(session, created_before=before, limit=limit)
    )


DEFAULT_RETENTION = Retention()
