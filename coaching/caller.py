"""Who is asking: the team, the user, their "now" and time zone, and the team's rules."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from coaching.calendar import local_date
from coaching.rules import Rules
from coaching.settings import TeamConfig


@dataclass(frozen=True)
class Caller:
    team_id: str
    user_id: str
    is_manager: bool
    now: datetime
    tz: ZoneInfo
    config: TeamConfig

    @property
    def rules(self) -> Rules:
        return self.config.rules

    @property
    def today(self) -> date:
        return local_date(self.now, self.tz)
