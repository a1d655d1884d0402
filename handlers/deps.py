"""What every handler module needs, built once per process by bot.app."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from coaching.caller import Caller
from coaching.settings import TeamConfig
from coaching.standing import Standing, Standings
from handlers.directory import Directory
from handlers.inbox import mark_current
from store.db import Database


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Callable[[], datetime]
    defaults: TeamConfig  # the environment's; a team's own overrides are read per request
    directory: Directory
    standings: Standings  # each team's settings and managers, kept a few seconds (coaching/standing.py)
    sleep: Callable[[float], None] = time.sleep  # tests pass a recorder: nothing waits for real
    # how long an uninstalled workspace's data is kept (BATON_UNINSTALL_GRACE_DAYS)
    uninstall_grace: timedelta = timedelta(days=30)

    def caller(self, session: Session, team_id: str, user_id: str, tz: ZoneInfo) -> Caller:
        return self._caller(self.standings.of(team_id, session=session), team_id, user_id, tz)

    def _caller(self, standing: Standing, team_id: str, user_id: str, tz: ZoneInfo) -> Caller:
        return Caller(
            team_id=team_id,
            user_id=user_id,
            is_manager=standing.is_manager(user_id),
            now=self.clock(),
            tz=tz,
            config=standing.config,
            own_workdays=standing.own_workdays.get(user_id),
            defaults=self.defaults,
            kept_workdays=standing.own_workdays,
        )

    # The one way a handler opens a transaction that writes. `acting` (and `working`, for work
    # with no person behind it, like an event) is a request's own work: the request it answers is
    # marked done in the same transaction, so both commit or neither does. `bookkeeping` is
    # Baton's own record keeping around the work (the outbox's sends, a job's claims): it never
    # marks a request done. tests/slack/test_inbox_contract.py fails on a `sessions.begin()`
    # anywhere else in handlers/.
    @contextmanager
    def acting(
        self, client: WebClient, team_id: str, user_id: str, *, write: bool = True
    ) -> Iterator[tuple[Session, Caller]]:
        """One transaction on behalf of the person who clicked or typed, with their time zone and rules.

        The time zone is looked up (Slack, cached) and the team's standing read (or held) before
        the transaction opens, so no database lock is held while waiting on Slack or reading them; Slack calls made with the result belong after the block.
        """
        tz = self.directory.zone(client, team_id, user_id)
        # Read (when not held) before the write begins: no reads of settings under the write lock.
        standing = self.standings.of(team_id, reading=self.db.readers.begin)
        if not write:
            with self.db.readers.begin() as session:
                yield session, self._caller(standing, team_id, user_id, tz)
            return
        with self.working() as session:
            yield session, self._caller(standing, team_id, user_id, tz)

    @contextmanager
    def working(self) -> Iterator[Session]:
        """A request's work in one write transaction. Its first statement takes the request and
        marks it done (handlers/inbox.py Receipt.mark): both commit or neither does, and a second
        copy of the work (a replay, a resumed run) finds it done and rolls back (Superseded)."""
        receipt = None
        try:
            with self.db.sessions.begin() as session:
                receipt = mark_current(session)
                yield session
        except BaseException:
            if receipt is not None:
                receipt.marked = False  # rolled back with the work
            raise
        if receipt is not None:
            receipt.committed = True

    @contextmanager
    def bookkeeping(self) -> Iterator[Session]:
        """A write that is no request's work: sending what the outbox owes, a job's claims, a tidy."""
        with self.db.sessions.begin() as session:
            yield session
