"""/lead and the lead buttons (Show, Won, Lost, Back-burner, Reopen) and the pipeline's per-lead menu."""

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from coaching import lead_commands
from handlers import answers
from handlers.blocks.base import stale_button
from handlers.blocks.ids import LEAD_BUTTONS, Action, read_ids
from handlers.blocks.replies import reply
from handlers.deps import Deps
from handlers.forms import open_logcall_form
from handlers.payloads import menu_choice
from handlers.registration import lazily
from handlers.say import answer

VERBS: dict[str, str] = {
    Action.LEAD_SHOW: "show",
    Action.LEAD_WON: "won",
    Action.LEAD_LOST: "lost",
    Action.LEAD_BACKBURNER: "backburner",
    Action.LEAD_REOPEN: "reopen",
}


def register(app: App, deps: Deps) -> None:
    handler = Leads(deps)
    lazily(app.command("/lead"), handler.command)
    for action_id in LEAD_BUTTONS:
        lazily(app.action(action_id), handler.button)
    lazily(app.action(Action.LEAD_MENU), handler.menu)


class Leads:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def command(
        self, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id, text = str(context.team_id), command["user_id"], command.get("text") or ""
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = lead_commands.lead_command(session, caller, text)
            message = reply(result, caller.local_now, typed=text)
            owed = answers.owe(self.deps, session, command, context, message)
        answers.send(self.deps, client, command, context, owed, message)

    def button(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        self._act(body, respond, client, context, action["action_id"], action.get("value"))

    def menu(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        action_id, value = menu_choice(action)
        if action_id == Action.LOGCALL_OPEN and (ids := read_ids(value, 1)):
            channel = (body.get("channel") or {}).get("id")
            open_logcall_form(
                self.deps,
                client,
                body["trigger_id"],
                str(context.team_id),
                body["user"]["id"],
                channel,
                ids[0],
            )
            return
        self._act(body, respond, client, context, action_id, value)

    def _act(
        self,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
        action_id: str,
        value: str | None,
    ) -> None:
        ids = read_ids(value, 1)
        if ids is None or action_id not in VERBS:
            answer(self.deps, body, respond, client, context, stale_button(), replace=False)
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = lead_commands.lead_action(session, caller, ids[0], VERBS[action_id])
            message = reply(result, caller.local_now)
            owed = answers.owe(self.deps, session, body, context, message)
        answers.send(self.deps, client, body, context, owed, message)
