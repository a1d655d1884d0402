"""/pipeline: the caller's open leads by what needs doing; a manager may name a rep."""

import re
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from coaching.pipeline import pipeline
from handlers import answers
from handlers.blocks.base import plain, usage
from handlers.blocks.pipeline import pipeline as pipeline_message
from handlers.deps import Deps
from handlers.registration import lazily

# With `should_escape: true` Slack sends "@jane" as "<@U123|jane>".
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def register(app: App, deps: Deps) -> None:
    lazily(app.command("/pipeline"), Pipelines(deps).command)


class Pipelines:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def command(
        self, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = str(context.team_id), command["user_id"]
        text = (command.get("text") or "").strip()
        owner_id = user_id
        if text:
            mention = MENTION.match(text)
            if mention is None:
                respond(**usage("pipeline", "Name a rep with @, like `/pipeline @jane`.").payload())
                return
            owner_id = mention.group(1)
        # "Overdue" is judged by the owner's calendar, not the viewer's.
        owner_tz = self.deps.directory.zone(client, team_id, owner_id)
        with self.deps.db.readers.begin() as session:
            caller = self.deps.caller(session, team_id, user_id, owner_tz)
            if owner_id != user_id and not caller.is_manager:
                message = plain("Only managers can see someone else's pipeline. `/pipeline` shows yours.")
            else:
                view = pipeline(
                    session,
                    team_id=team_id,
                    owner_id=owner_id,
                    now=caller.now,
                    tz=owner_tz,
                    rules=caller.rules,
                    team_days=caller.config.digest_days,
                )
                message = pipeline_message(view, caller.local_now, viewer=user_id)
        # Read-only, but answered through the outbox with the request ended in one write: a second
        # run of it (its process presumed dead) finds it ended and answers nothing.
        with self.deps.working() as session:
            owed = answers.owe(self.deps, session, command, context, message)
        answers.send(self.deps, client, command, context, owed, message)
