"""What Baton remembers about Slack users: time zones (what "today" means) and who manages."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from coaching.calendar import BadDays, parse_workdays
from store import queries

PROFILE_MAX_AGE = timedelta(hours=12)


@dataclass(frozen=True)
class Profile:
    user_id: str
    name: str
    tz: str
    deactivated: bool = False
    is_bot: bool = False
    is_admin: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)


def zone(name: str | None) -> ZoneInfo:
    """The named time zone, or UTC when Slack gave none Baton knows."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def known_profile(session: Session, *, team_id: str, user_id: str, now: datetime) -> Profile | None:
    """The stored profile if it is fresh enough to trust, else None (ask Slack again)."""
    stored = last_known_profile(session, team_id=team_id, user_id=user_id)
    if stored is None or now - stored[1] > PROFILE_MAX_AGE:
        return None
    return stored[0]


def last_known_profile(session: Session, *, team_id: str, user_id: str) -> tuple[Profile, datetime] | None:
    """The stored profile however old, with when Slack last said so: when Slack can't be asked, a
    zone from last week is far likelier right than UTC (people rarely move)."""
    rep = queries.people.rep(session, team_id=team_id, user_id=user_id)
    if rep is None:
        return None
    return Profile(rep.user_id, rep.name, rep.tz, rep.deactivated, rep.is_bot, rep.is_admin), rep.refreshed_at


def remember(session: Session, *, team_id: str, profile: Profile, now: datetime) -> bool:
    """Store what Slack says about someone; True when this is the moment Baton learns they left."""
    before = queries.people.rep(session, team_id=team_id, user_id=profile.user_id)
    newly_departed = profile.deactivated and before is not None and not before.deactivated
    queries.people.upsert_rep(
        session,
        team_id=team_id,
        user_id=profile.user_id,
        name=profile.name,
        tz=profile.tz,
        deactivated=profile.deactivated,
        is_bot=profile.is_bot,
        is_admin=profile.is_admin,
        refreshed_at=now,
    )
    return newly_departed


def first_sighting(session: Session, *, event_id: str, team_id: str, now: datetime) -> bool:
    """True the first time an Events API delivery is seen; False for Slack's retries of it."""
    return queries.events.mark_event_seen(session, event_id=event_id, team_id=team_id, now=now)


def forget_old_events(session: Session, *, before: datetime) -> None:
    queries.events.delete_events_before(session, before)


def is_manager(session: Session, *, team_id: str, user_id: str, configured: frozenset[str]) -> bool:
    """Managers are those in COACH_MANAGER_IDS and those added in Slack with /coach managers add."""
    return user_id in configured or queries.people.is_listed_manager(
        session, team_id=team_id, user_id=user_id
    )


def managers(session: Session, *, team_id: str, configured: frozenset[str]) -> list[str]:
    """Every manager of the team, configured ones first, each once."""
    listed = [m for m in queries.people.listed_managers(session, team_id=team_id) if m not in configured]
    return sorted(configured) + listed


def workdays_of(session: Session, *, team_id: str, user_id: str, team_days: frozenset[int]) -> frozenset[int]:
    """Someone's working days: their own (`/coach me workdays`) when set, else the team's."""
    return own_workdays_of(session, team_id=team_id, user_id=user_id) or team_days


def own_workdays_of(session: Session, *, team_id: str, user_id: str) -> frozenset[int] | None:
    rep = queries.people.rep(session, team_id=team_id, user_id=user_id)
    return own_workdays(rep.workdays if rep else None)


def own_workdays(stored: str | None) -> frozenset[int] | None:
    """A rep's stored override; one that no longer reads falls back to the team's, never fails."""
    if not stored:
        return None
    try:
        return parse_workdays(stored)
    except BadDays:
        return None
