"""What every handler module needs, built once per process by bot.app."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from coaching.caller import Caller
from coaching.people import is_manager
from coaching.rules import Rules
from coaching.settings import team_rules
from handlers.people import Directory
from store.db import Database


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Callable[[], datetime]
    rules: Rules  # the environment's defaults; a team's overrides are read per request
    managers: frozenset[str]  # COACH_MANAGER_IDS
    directory: Directory

    def caller(self, session: Session, team_id: str, user_id: str, tz: ZoneInfo) -> Caller:
        return Caller(
            team_id=team_id,
            user_id=user_id,
            is_manager=is_manager(session, team_id=team_id, user_id=user_id, configured=self.managers),
            now=self.clock(),
            tz=tz,
            rules=team_rules(session, team_id=team_id, defaults=self.rules),
        )
