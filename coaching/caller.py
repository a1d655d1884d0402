"""Who is asking: the team, the user, their "now" and time zone, and the team's rules."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from coaching.calendar import local_date
from coaching.rules import Rules
from coaching.settings import DEFAULT_TEAM, TeamConfig


@dataclass(frozen=True)
class Caller:
    team_id: str
    user_id: str
    is_manager: bool
    now: datetime
    tz: ZoneInfo
    config: TeamConfig
    own_workdays: frozenset[int] | None = None  # `/coach me workdays`; None: the team's
    defaults: TeamConfig = DEFAULT_TEAM  # the environment's, before the team's own overrides
    # Everyone in the team who keeps working days of their own, when known (coaching/standing.py):
    # a touch on someone else's lead lands its follow-up on the owner's days without a query.
    kept_workdays: Mapping[str, frozenset[int]] | None = None

    def workdays_of(self, user_id: str) -> frozenset[int] | None:
        """Someone's working days, or None when this caller doesn't know (ask the database)."""
        if self.kept_workdays is None:
            return None
        return self.kept_workdays.get(user_id) or self.config.digest_days

    @property
    def workdays(self) -> frozenset[int]:
        return self.own_workdays or self.config.digest_days

    @property
    def rules(self) -> Rules:
        return self.config.rules

    @property
    def local_now(self) -> datetime:
        """Now where the caller is: what "today" and "3 days ago" are read against."""
        return self.now.astimezone(self.tz)

    @property
    def today(self) -> date:
        return local_date(self.now, self.tz)
