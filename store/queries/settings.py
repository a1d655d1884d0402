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


def team_settings(session: Session, *, team_id: str) -> dict[str, str]:
    rows = session.execute(select(TeamSetting.name, TeamSetting.value).where(TeamSetting.team_id == team_id))
    return {name: value for name, value in rows}


def store_setting(
    session: Session, *, team_id: str, name: str, value: str, user_id: str, now: datetime
) -> None:
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
    session.execute(delete(TeamSetting).where(TeamSetting.team_id == team_id, TeamSetting.name == name))
