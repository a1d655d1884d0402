"""Queries on the people in a workspace: reps (their profiles, names, working days) and managers.

Each takes the caller's session and never commits or closes it.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import (
    Manager,
    Rep,
)
from store.queries.settings import mark_changed
from store.workspaces import stopped_teams


def rep(session: Session, *, team_id: str, user_id: str) -> Rep | None:
    return session.scalars(select(Rep).where(Rep.team_id == team_id, Rep.user_id == user_id)).one_or_none()


def is_listed_manager(session: Session, *, team_id: str, user_id: str) -> bool:
    query = select(Manager.user_id).where(Manager.team_id == team_id, Manager.user_id == user_id)
    return session.scalar(query) is not None


def listed_managers(session: Session, *, team_id: str) -> list[str]:
    query = (
        select(Manager.user_id).where(Manager.team_id == team_id).order_by(Manager.added_at, Manager.user_id)
    )
    return list(session.scalars(query))


def upsert_rep(session: Session, **values: object) -> None:
    """Insert or refresh a rep in one statement: two requests from a new user may race."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Rep).values(**values)
    updates = {k: statement.excluded[k] for k in values if k not in ("team_id", "user_id")}
    session.execute(statement.on_conflict_do_update(index_elements=["team_id", "user_id"], set_=updates))


def active_reps(session: Session) -> Sequence[Rep]:
    query = select(Rep).where(
        Rep.deactivated.is_(False), Rep.is_bot.is_(False), Rep.team_id.not_in(stopped_teams())
    )
    return session.scalars(query.order_by(Rep.team_id, Rep.user_id)).all()


def reps_known(session: Session) -> Sequence[Rep]:
    """Everyone Baton holds a profile for, active or not (in the workspaces Baton is running for)."""
    query = select(Rep).where(Rep.team_id.not_in(stopped_teams()))
    return session.scalars(query.order_by(Rep.team_id, Rep.user_id)).all()


def team_reps(session: Session, *, team_id: str) -> Sequence[Rep]:
    return session.scalars(select(Rep).where(Rep.team_id == team_id).order_by(Rep.user_id)).all()


def set_own_workdays(session: Session, *, team_id: str, user_id: str, workdays: str | None) -> bool:
    """A person's own working days (None: the team's); False when Baton holds no profile for them."""
    rep = session.scalars(select(Rep).where(Rep.team_id == team_id, Rep.user_id == user_id)).one_or_none()
    if rep is None:
        return False
    rep.workdays = workdays
    mark_changed(session, team_id=team_id)
    return True


def departed_reps(session: Session, *, team_ids: Sequence[str]) -> set[tuple[str, str]]:
    query = select(Rep.team_id, Rep.user_id).where(Rep.team_id.in_(team_ids), Rep.deactivated.is_(True))
    return {(row.team_id, row.user_id) for row in session.execute(query)}


def known_teams(session: Session) -> list[str]:
    return list(session.scalars(select(Rep.team_id).distinct()))


def rep_names(
    session: Session, *, team_ids: Sequence[str], active_only: bool = False
) -> dict[tuple[str, str], str]:
    """(team, person) → name for these teams: everyone Baton holds a profile for, or only the active."""
    query = select(Rep.team_id, Rep.user_id, Rep.name).where(Rep.team_id.in_(team_ids))
    if active_only:
        query = query.where(Rep.deactivated.is_(False))
    return {(row.team_id, row.user_id): row.name for row in session.execute(query)}


def add_manager(session: Session, *, team_id: str, user_id: str, by: str, now: datetime) -> None:
    mark_changed(session, team_id=team_id)
    session.add(Manager(team_id=team_id, user_id=user_id, added_by=by, added_at=now))


def remove_manager(session: Session, *, team_id: str, user_id: str) -> None:
    mark_changed(session, team_id=team_id)
    session.execute(delete(Manager).where(Manager.team_id == team_id, Manager.user_id == user_id))


def own_workdays_of_team(session: Session, *, team_id: str) -> dict[str, str]:
    """The reps who keep working days of their own, as written: one query for a whole import."""
    query = select(Rep.user_id, Rep.workdays).where(Rep.team_id == team_id, Rep.workdays.is_not(None))
    return {row.user_id: row.workdays for row in session.execute(query)}
