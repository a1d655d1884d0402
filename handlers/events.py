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
        user = event.get("user")
        deliveries = Deliveries(self.deps, client)
        owed: list[int] = []
        # One transaction: the event seen, the person learnt, and the managers' alert if they left.
        # Killed before its commit, all of it is done again; after it, the alert is owed and sent.
        with self.deps.working() as session:
            # Slack retries an event it thinks went unanswered, with the same event_id: act once.
            fresh = first_sighting(
                session, event_id=str(body.get("event_id")), team_id=team_id, now=self.deps.clock()
            )
            known = user if fresh and isinstance(user, dict) and "id" in user else None
            if known is not None and self.deps.directory.learn(session, team_id, known):
                owed = deliveries.owe_orphan_alert(session, team_id, str(known["id"]))
        deliveries.send(owed)
