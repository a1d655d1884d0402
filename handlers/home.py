"""Baton's Home tab: published when someone opens it, and again after they press something there."""

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from handlers.deps import Deps
from handlers.registration import lazily
from handlers.say import publish_home


def register(app: App, deps: Deps) -> None:
    tab = HomeTab(deps)
    lazily(app.event("app_home_opened"), tab.opened)


class HomeTab:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def opened(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab: nothing to publish
        publish_home(self.deps, client, str(context.team_id), str(event["user"]))
