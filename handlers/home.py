"""Baton's Home tab: published when someone opens it, and again after they press something there."""

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from coaching.home import home
from handlers import blocks
from handlers.blocks import Message
from handlers.deps import Deps
from handlers.errors import lazily


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
        client.views_publish(user_id=user_id, view=blocks.home(view, caller.rules, caller.now, note=note))


def from_home(body: dict[str, Any]) -> bool:
    """Was this pressed on the Home tab (which has no response_url to answer through)?"""
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get(
        "type"
    ) == "home"


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
