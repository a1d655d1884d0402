"""Who a Slack user is and where they are: profiles from `users.info` and `users.list`, cached in memory and in the database."""

import http.client
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from coaching import people
from coaching.parsing import printable
from coaching.people import Profile
from store.db import Database

log = logging.getLogger(__name__)
MEMORY_TTL = timedelta(minutes=30)


def profile_from_slack(user: dict[str, Any]) -> Profile:
    profile = user.get("profile") or {}
    # The real name reads best in a greeting; the handle is the last resort.
    name = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user.get("name")
        or ""
    )
    return Profile(
        user_id=user["id"],
        name=printable(str(name)),  # a NUL in a profile is stored by SQLite and refused by PostgreSQL
        tz=str(user.get("tz") or "UTC"),
        deactivated=bool(user.get("deleted")),
        is_bot=bool(user.get("is_bot")),
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
    )


class Directory:
    """Who a Slack user is and where they are. Asks Slack only when neither cache knows."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._memory: dict[tuple[str, str], tuple[Profile, datetime]] = {}
        self._lock = threading.Lock()

    def zone(self, client: WebClient, team_id: str, user_id: str) -> ZoneInfo:
        return self.profile(client, team_id, user_id).zone

    def profile(self, client: WebClient, team_id: str, user_id: str) -> Profile:
        now = self._clock()
        key = (team_id, user_id)
        with self._lock:
            cached = self._memory.get(key)
        if cached and now - cached[1] < MEMORY_TTL:
            return cached[0]
        with self._db.readers.begin() as session:
            stored = people.last_known_profile(session, team_id=team_id, user_id=user_id)
        if stored is not None and now - stored[1] <= people.PROFILE_MAX_AGE:
            known = stored[0]
        else:
            fetched = self._from_slack(client, user_id)
            if fetched is None:
                # Slack couldn't say. Nothing is cached, so the next request asks again.
                if stored is not None:
                    log.warning(
                        "Using %s's last known time zone, %s (from %s), until Slack answers",
                        user_id,
                        stored[0].tz,
                        stored[1].isoformat(timespec="minutes"),
                    )
                    return stored[0]
                log.warning("Baton has never known %s's time zone: using UTC until Slack answers", user_id)
                return Profile(user_id, "", "UTC")
            with self._db.sessions.begin() as session:
                people.remember(session, team_id=team_id, profile=fetched, now=now)
            known = fetched
        with self._lock:
            self._memory[key] = (known, now)
        return known

    def learn(self, session: Session, team_id: str, user: dict[str, Any]) -> bool:
        """A profile Slack sent (the `user_change` event, a `users.list` page), kept in the caller's
        transaction (with whatever it owes: an alert that they left); True if they just left."""
        profile = profile_from_slack(user)
        now = self._clock()
        departed = people.remember(session, team_id=team_id, profile=profile, now=now)
        with self._lock:
            self._memory[(team_id, profile.user_id)] = (profile, now)
        return departed

    def _from_slack(self, client: WebClient, user_id: str) -> Profile | None:
        try:
            response = client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return None
        except (OSError, http.client.HTTPException) as error:  # no answer at all, or half of one
            log.warning("users.info failed for %s: %s", user_id, type(error).__name__)
            return None
        return profile_from_slack(response["user"])


def everyone(client: WebClient) -> Iterator[dict[str, Any]]:
    """Every member of the workspace, page by page (users.list is Tier 2: 200 a page keeps calls few)."""
    cursor: str | None = None
    while True:
        page = client.users_list(limit=200, cursor=cursor)
        yield from page.get("members") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return
