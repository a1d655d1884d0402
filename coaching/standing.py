"""A team's standing orders for every request: its settings, its managers, who keeps their own days.

Every command needs them to build its `Caller`, and reading them inside the command's write
transaction put three statements under SQLite's one write lock on every `/logcall`. They change
rarely (an admin's `/coach set`), so each process keeps them per team for a few seconds:

- a change made in this process is seen at once: the statements that change them mark the
  session, and the team is forgotten as soon as that transaction commits;
- a change made by another process (a second web process, the clock, the command line) is seen
  within `FRESH_FOR`.

A miss is read in a read-only transaction of its own before the write begins (or in the caller's
transaction, where one is already open), so no request reads them while holding the write lock.
"""

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from coaching.people import own_workdays
from coaching.settings import TeamConfig, team_config
from store import queries

FRESH_FOR = timedelta(seconds=5)


@dataclass(frozen=True)
class Standing:
    config: TeamConfig  # the environment's defaults with the team's own overrides
    listed_managers: frozenset[str]  # added in Slack (/coach managers add); configured ones are in config
    own_workdays: Mapping[str, frozenset[int]] = field(default_factory=dict)  # `/coach me workdays`

    def is_manager(self, user_id: str) -> bool:
        return user_id in self.config.manager_ids or user_id in self.listed_managers


def read_standing(session: Session, *, team_id: str, defaults: TeamConfig) -> Standing:
    """Three statements whatever the team's size: settings, managers, and the few own calendars."""
    kept = queries.people.own_workdays_of_team(session, team_id=team_id)
    return Standing(
        config=team_config(session, team_id=team_id, defaults=defaults),
        listed_managers=frozenset(queries.people.listed_managers(session, team_id=team_id)),
        own_workdays={user: days for user, text in kept.items() if (days := own_workdays(text)) is not None},
    )


class Standings:
    """Each team's `Standing`, kept for `fresh_for` by this process (the clock is the app's, so
    tests move it instead of waiting)."""

    def __init__(
        self, defaults: TeamConfig, clock: Callable[[], datetime], *, fresh_for: timedelta = FRESH_FOR
    ) -> None:
        self._defaults = defaults
        self._clock = clock
        self._fresh_for = fresh_for
        self._lock = threading.Lock()
        self._held: dict[str, tuple[datetime, Standing]] = {}
        # Bumped when a team is forgotten: a read that began before a change is not kept after it.
        self._generation: dict[str, int] = {}

    def of(
        self,
        team_id: str,
        *,
        session: Session | None = None,
        reading: Callable[[], AbstractContextManager[Session]] | None = None,
    ) -> Standing:
        """The team's standing: held, or read with `session` if given, else in a `reading()` transaction."""
        now = self._clock()
        with self._lock:
            held = self._held.get(team_id)
            if held is not None and held[0] <= now < held[0] + self._fresh_for:
                return held[1]
            generation = self._generation.get(team_id, 0)
        if session is not None:
            standing = read_standing(session, team_id=team_id, defaults=self._defaults)
        else:
            assert reading is not None, "a session or a way to open one"
            with reading() as own:
                standing = read_standing(own, team_id=team_id, defaults=self._defaults)
        with self._lock:
            if self._generation.get(team_id, 0) == generation:
                self._held[team_id] = (now, standing)
        return standing

    def forget(self, team_id: str) -> None:
        with self._lock:
            self._held.pop(team_id, None)
            self._generation[team_id] = self._generation.get(team_id, 0) + 1

    def committed(self, session: Session) -> None:
        """After a write transaction commits: forget the teams whose standing it changed."""
        for team_id in queries.settings.changed_teams(session):
            self.forget(team_id)
