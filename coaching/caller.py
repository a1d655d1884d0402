"""Who is asking: the team, the user, their "now" and time zone, and the team's rules."""

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
