"""The weekly review's button: "Set the limit to N", the same change as `/coach set attempts_limit N`."""

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from coaching import review_records
from coaching.caller import Caller
from coaching.review_records import LimitRefused
from handlers import answers
from handlers.blocks.base import Message, Reshown, plain, reshown, stale_button
from handlers.blocks.ids import Action
from handlers.blocks.review import limit_refused, limit_set
from handlers.deps import Deps
from handlers.payloads import clicked_ids
from handlers.registration import lazily


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
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            message = self._answer(session, caller, body, action, ids)
            # The review shows the change in place of its button; anything else goes beside it.
            owed = answers.owe(
                self.deps, session, body, context, message, replace=isinstance(message, Reshown)
            )
        answers.send(self.deps, client, body, context, owed, message)

    def _answer(
        self,
        session: Session,
        caller: Caller,
        body: dict[str, Any],
        action: dict[str, Any],
        ids: tuple[int, ...] | None,
    ) -> Message:
        if ids is None:
            return stale_button()
        result = review_records.set_limit(session, caller, limit=ids[0], defaults=self.deps.defaults)
        if isinstance(result, LimitRefused):
            return limit_refused(result.reason)
        before, after = next(
            ((b, a) for name, b, a in result.changes if name == "attempts_limit"), ("", str(ids[0]))
        )
        block_id = str(action.get("block_id") or "")
        done = limit_set(block_id, before or after, after, caller.user_id)
        return reshown(body.get("message") or {}, block_id, done, fallback="Weekly review") or plain(
            f"The attempt limit is {after} now."
        )
