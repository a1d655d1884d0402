"""Baton's Home tab: published when someone opens it, and again after they press something there."""

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from coaching.home import home
from handlers.blocks.base import Message
from handlers.blocks.home import home as home_tab
from handlers.deps import Deps
from handlers.errors import lazily
from handlers.payloads import from_home


def register(app: App, deps: Deps) -> None:
    tab = HomeTab(deps)
    lazily(app.event("app_home_opened"), tab.opened)


class HomeTab:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def opened(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab: nothing to publish
        self.publish(client, str(context.team_id), str(event["user"]))

    def publish(self, client: WebClient, team_id: str, user_id: str, *, note: str | None = None) -> None:
        with self.deps.acting(client, team_id, user_id, write=False) as (session, caller):
            view = home(session, caller)
        client.views_publish(user_id=user_id, view=home_tab(view, caller.rules, caller.local_now, note=note))


def answer(
    deps: Deps,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    message: Message,
    *,
    replace: bool,
) -> None:
    """Answer a click where it happened: in its message, or on the Home tab by refreshing it with a note."""
    if from_home(body):
        HomeTab(deps).publish(client, str(context.team_id), body["user"]["id"], note=message.text)
        return
    respond(**message.payload(), response_type="ephemeral", replace_original=replace)
