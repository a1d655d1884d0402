"""The weekly review's button: "Set the limit to N", the same change as `/coach set attempts_limit N`."""

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from coaching import review_records
from coaching.review_records import LimitRefused
from handlers.blocks.base import replace_block, stale_button
from handlers.blocks.ids import Action
from handlers.blocks.review import limit_refused, limit_set
from handlers.deps import Deps
from handlers.payloads import clicked_ids
from handlers.registration import lazily
from handlers.say import answer


def register(app: App, deps: Deps) -> None:
    lazily(app.action(Action.REVIEW_SET_LIMIT), ReviewButtons(deps).set_limit)


class ReviewButtons:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def set_limit(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ids = clicked_ids(action, 1)
        if ids is None:
            answer(self.deps, body, respond, client, context, stale_button(), replace=False)
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = review_records.set_limit(session, caller, limit=ids[0], defaults=self.deps.defaults)
        if isinstance(result, LimitRefused):
            answer(self.deps, body, respond, client, context, limit_refused(result.reason), replace=False)
            return
        before, after = next(
            ((b, a) for name, b, a in result.changes if name == "attempts_limit"), ("", str(ids[0]))
        )
        block_id = str(action.get("block_id") or "")
        message = body.get("message") or {}
        updated = replace_block(
            message.get("blocks") or [], block_id, limit_set(block_id, before or after, after, user_id)
        )
        if updated is not None:
            respond(text=str(message.get("text") or "Weekly review"), blocks=updated, replace_original=True)
