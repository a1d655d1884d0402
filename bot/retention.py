"""The tidy: finished work pruned, old notes blanked and uninstalled workspaces deleted, a short
transaction at a time, from every web process's periodic pass and the clock's nightly job.

Without it every command left an inbox and an outbox row for ever (about 10 KB of SQLite each),
pruned only by the clock's 03:17 tidy, in one statement holding SQLite's write lock (issue 16).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from coaching import workspaces
from coaching.retention import BATCH, Retention, blank_old_notes, prune_some
from store.db import Database, between_turns

log = logging.getLogger(__name__)
EVERY = timedelta(minutes=10)  # each web process's recovery pass (every 15 s) prunes this often
MOST_BATCHES = 100  # per run and per kind of work; a backlog bigger than that is finished by the next runs


@dataclass
class Tidied:
    pruned: int = 0  # finished inbox, outbox and delivery records
    blanked: int = 0  # notes and reasons past their keeping time
    deleted: int = 0  # rows of workspaces uninstalled longer ago than the grace period
    teams: int = 0  # workspaces deleted whole

    @property
    def total(self) -> int:
        return self.pruned + self.blanked + self.deleted

    def __str__(self) -> str:
        return (
            f"Pruned {self.pruned:,} finished records, blanked {self.blanked:,} notes past their keeping "
            f"time, deleted {self.deleted:,} rows of {self.teams:,} uninstalled workspace"
            f"{'' if self.teams == 1 else 's'}."
        )


class Tidy:
    """Deletes and blanks what has outlived its keeping time (coaching/retention.py,
    coaching/workspaces.py) in batches, pausing between them so an acknowledgement's write never
    waits behind it."""

    def __init__(
        self, db: Database, clock: Callable[[], datetime], keep: Retention, *, batch: int = BATCH
    ) -> None:
        self.db, self.clock, self.keep, self.batch = db, clock, keep, batch
        self._next: datetime | None = None

    def run(self, *, most_batches: int = MOST_BATCHES) -> int:
        """Tidy what has expired; how many rows went (or were blanked)."""
        return self.tidy(most_batches=most_batches).total

    def tidy(self, *, most_batches: int = MOST_BATCHES) -> Tidied:
        done = Tidied()
        done.pruned = self._in_batches(
            lambda session: prune_some(session, now=self.clock(), keep=self.keep, limit=self.batch),
            most_batches,
        )
        done.blanked = self._in_batches(
            lambda session: blank_old_notes(session, now=self.clock(), keep=self.keep, limit=self.batch),
            most_batches,
        )
        self._forget_uninstalled(done, most_batches)
        if done.pruned:
            log.info("Pruned %d finished records past their keeping time", done.pruned)
        if done.blanked:
            log.info("Blanked %d notes and reasons older than %d days", done.blanked, self.keep.notes_days)
        return done

    def when_due(self) -> int:
        """`run`, at most every `EVERY` in this process."""
        now = self.clock()
        if self._next is not None and now < self._next:
            return 0
        self._next = now + EVERY
        return self.run()

    def _in_batches(self, batch: Callable[[Session], int], most_batches: int) -> int:
        total = 0
        for _ in range(most_batches):
            started = time.monotonic()
            with self.db.sessions.begin() as session:
                gone = batch(session)
            total += gone
            if gone == 0:
                break
            between_turns(self.db, held=time.monotonic() - started)
        return total

    def _forget_uninstalled(self, done: Tidied, most_batches: int) -> None:
        """Every row of each workspace whose grace period is over, table by table, a batch at a time."""
        with self.db.readers.begin() as session:
            due = workspaces.due_for_deletion(session, now=self.clock())
        batches = 0
        for team_id in due:
            table = 0
            while batches < most_batches:
                started = time.monotonic()
                with self.db.sessions.begin() as session:
                    step = workspaces.forget_some(
                        session, team_id=team_id, now=self.clock(), table=table, limit=self.batch
                    )
                batches += 1
                done.deleted += step.deleted
                table = step.table
                if step.finished:
                    done.teams += 1
                    log.info(
                        "Deleted every record of workspace %s: its grace period after uninstalling is over",
                        team_id,
                    )
                if step.finished or step.stopped:
                    break
                between_turns(self.db, held=time.monotonic() - started)
