"""Queries on a team's own settings (the overrides of the environment's defaults).

Each takes the caller's session and never commits or closes it.
"""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import (
    TeamSetting,
)

# Teams whose settings, managers or own working days a session changed: processes keep these per
# team for a few seconds (coaching/standing.py) and forget a team once its change commits.
CHANGED = "baton_standing_changed"


def mark_changed(session: Session, *, team_id: str) -> None:
    session.info.setdefault(CHANGED, set()).add(team_id)


def changed_teams(session: Session) -> set[str]:
    """The teams marked since the last call (each is reported once)."""
    teams: set[str] = session.info.pop(CHANGED, set())
    return teams


def team_settings(session: Session, *, team_id: str) -> dict[str, str]:
    rows = session.execute(select(TeamSetting.name, TeamSetting.value).where(TeamSetting.team_id == team_id))
    return {name: value for name, value in rows}


def store_setting(
    session: Session, *, team_id: str, name: str, value: str, user_id: str, now: datetime
) -> None:
    mark_changed(session, team_id=team_id)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(TeamSetting).values(
        team_id=team_id, name=name, value=value, updated_by=user_id, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "name"],
            set_={"value": statement.excluded.value, "updated_by": user_id, "updated_at": now},
        )
    )


def delete_setting(session: Session, *, team_id: str, name: str) -> None:
    mark_changed(session, team_id=team_id)
    session.execute(delete(TeamSetting).where(TeamSetting.team_id == team_id, TeamSetting.name == name))
