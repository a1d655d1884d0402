"""Events Slack pushes: a person changed (deactivated, moved time zone). Retries are recognised and ignored."""

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from coaching.people import first_sighting
from handlers.deliveries import Deliveries
from handlers.deps import Deps
from handlers.registration import lazily


def register(app: App, deps: Deps) -> None:
    lazily(app.event("user_change"), Events(deps).user_change)


class Events:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def user_change(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id = str(context.team_id or body.get("team_id"))
        # Slack retries an event it thinks went unanswered, with the same event_id: act once.
        with self.deps.db.sessions.begin() as session:
            fresh = first_sighting(
                session, event_id=str(body.get("event_id")), team_id=team_id, now=self.deps.clock()
            )
        user = event.get("user")
        if not fresh or not isinstance(user, dict) or "id" not in user:
            return
        if self.deps.directory.learn(team_id, user):
            Deliveries(self.deps, client).orphans(team_id, str(user["id"]))
