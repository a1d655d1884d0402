"""Pruning finished work, a short transaction at a time, from every web process's periodic pass.

Without it every command left an inbox and an outbox row for ever (about 10 KB of SQLite each),
pruned only by the clock's 03:17 tidy, in one statement holding SQLite's write lock (issue 16).
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from coaching.retention import BATCH, Retention, prune_some
from store.db import Database, between_turns

log = logging.getLogger(__name__)
EVERY = timedelta(minutes=10)  # each web process's recovery pass (every 15 s) prunes this often
MOST_BATCHES = 100  # per run; a backlog bigger than that is finished by the next runs


class Tidy:
    """Deletes expired finished work in batches (coaching/retention.py), pausing between them so
    an acknowledgement's write never waits behind it."""

    def __init__(
        self, db: Database, clock: Callable[[], datetime], keep: Retention, *, batch: int = BATCH
    ) -> None:
        self.db, self.clock, self.keep, self.batch = db, clock, keep, batch
        self._next: datetime | None = None

    def run(self, *, most_batches: int = MOST_BATCHES) -> int:
        """Prune what has expired; how many rows went."""
        pruned = 0
        for _ in range(most_batches):
            started = time.monotonic()
            with self.db.sessions.begin() as session:
                gone = prune_some(session, now=self.clock(), keep=self.keep, limit=self.batch)
            pruned += gone
            if gone == 0:
                break
            between_turns(self.db, held=time.monotonic() - started)
        if pruned:
            log.info("Pruned %d finished records past their keeping time", pruned)
        return pruned

    def when_due(self) -> int:
        """`run`, at most every `EVERY` in this process."""
        now = self.clock()
        if self._next is not None and now < self._next:
            return 0
        self._next = now + EVERY
        return self.run()
