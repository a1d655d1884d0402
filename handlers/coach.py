"""/coach: help, the workspace's settings (shown to all, changed by managers) and who manages."""

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from coaching import coach
from coaching.settings import SettingsChanged
from handlers import answers
from handlers.blocks.base import plain
from handlers.blocks.coach import coach_reply, settings_modal, settings_saved_view
from handlers.blocks.ids import Action
from handlers.deps import Deps
from handlers.payloads import read_settings
from handlers.registration import at_once, lazily
from handlers.say import answer


def register(app: App, deps: Deps) -> None:
    handler = Coach(deps)
    lazily(app.command("/coach"), handler.command)
    lazily(app.action(Action.COACH_SETTINGS_OPEN), handler.open_form)
    # Saved while the form is open, so problems show in place next to the field they concern.
    at_once(app.view(Action.COACH_SETTINGS_MODAL), handler.save_form)


class Coach:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def command(
        self, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id, text = str(context.team_id), command["user_id"], command.get("text") or ""
        profile = self.deps.directory.profile(client, team_id, user_id)
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = coach.coach_command(session, caller, text, is_admin=profile.is_admin)
            message = coach_reply(result)
            owed = answers.owe(self.deps, session, command, context, message)
        answers.send(self.deps, client, command, context, owed, message)

    def open_form(
        self, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id, write=False) as (session, caller):
            shown = coach.show_settings(session, caller)
        if not shown.can_change:
            answer(
                self.deps,
                body,
                respond,
                client,
                context,
                plain("Only managers can change Baton's settings."),
                replace=False,
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=settings_modal(shown))

    def save_form(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = str(context.team_id), body["user"]["id"]
        values = read_settings(view)
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = coach.save_form(session, caller, values)
        if isinstance(result, SettingsChanged):
            ack(response_action="update", view=settings_saved_view(result))
        else:
            ack(
                response_action="errors",
                errors={name: problem[:150] for name, problem in result.problems.items()},
            )
