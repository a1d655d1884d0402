"""/logcall: log a touch in one line, or in a modal when typed alone; and the buttons that finish a draft."""

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from coaching import lead_commands, leads, touches
from coaching.calendar import local_date
from coaching.caller import Caller
from coaching.finding import DraftRefused
from coaching.handoff_results import HANDED_OFF
from coaching.touches import Fix
from handlers import answers, outbox
from handlers.blocks.base import stale_button
from handlers.blocks.ids import Action
from handlers.blocks.logcall import lead_options, slow_lead_options, touch_on_your_lead
from handlers.blocks.replies import reply
from handlers.courier import Courier
from handlers.deliveries import live_digest
from handlers.deps import Deps
from handlers.forms import open_logcall_form
from handlers.handoff_posts import HandoffPosts
from handlers.payloads import clicked_ids, from_home, in_block, read_form, read_metadata
from handlers.registration import answered, lazily, options
from handlers.say import publish_home
from store.db import TooSlow

# What the lead search may take of Slack's 3 seconds, leaving room for the trip there and back.
PICKER_SECONDS = 2.0
FIXES = {
    Action.DRAFT_AS_MEETING: Fix.AS_MEETING,
    Action.DRAFT_AS_TODAY: Fix.AS_TODAY,
    Action.DRAFT_AS_GUESSED: Fix.AS_GUESSED,
    Action.DRAFT_AS_NOTE: Fix.AS_NOTE,
    Action.DRAFT_MONTH_FIRST: Fix.MONTH_FIRST,
    Action.DRAFT_DAY_FIRST: Fix.DAY_FIRST,
}


def register(app: App, deps: Deps) -> None:
    handler = LogCall(deps)
    lazily(app.command("/logcall"), handler.command)
    answered(app.view(Action.LOGCALL_MODAL), handler.check_form, handler.submit)
    # Options must come back in the acknowledgement itself: a quick search in the request thread.
    options(app.options(Action.LEAD_SEARCH), handler.lead_options)
    lazily(app.action(Action.LOGCALL_OPEN), handler.open_for_lead)
    lazily(app.action(Action.HOME_LOGCALL), handler.open_for_lead)
    for action_id in (Action.DRAFT_PICK, *FIXES):
        lazily(app.action(action_id), handler.finish_draft)
    lazily(app.action(Action.DRAFT_ADD), handler.add_and_finish)


class LogCall:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def command(
        self, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id, text = str(context.team_id), command["user_id"], command.get("text") or ""
        if not text.strip():
            open_logcall_form(
                self.deps, client, command["trigger_id"], team_id, user_id, command.get("channel_id")
            )
            return
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = touches.log_from_text(session, caller, text)
            # The answer is owed in the same transaction: a crash after the commit still delivers it.
            owed = outbox.reply(
                session,
                team_id,
                user_id,
                reply(result, caller.local_now, typed=text),
                deps=self.deps,
                response_url=command.get("response_url"),
                channel_id=command.get("channel_id"),
            )
            told = self._owe_owner(session, caller, result, sending_now=True)
        Courier(self.deps, client).send([owed, *told])

    def open_for_lead(
        self, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ids = clicked_ids(action, 1)
        channel = (body.get("channel") or {}).get("id")
        team_id, user_id = str(context.team_id), body["user"]["id"]
        container = body.get("container") or {}
        # Opened from a digest item: once logged, the digest is refreshed in place.
        from_digest = in_block(action, Action.NUDGE_BLOCK) and container.get("message_ts")
        refresh = (str(container.get("channel_id")), str(container["message_ts"])) if from_digest else None
        lead_id = ids[0] if ids else None
        open_logcall_form(
            self.deps,
            client,
            body["trigger_id"],
            team_id,
            user_id,
            channel,
            lead_id,
            refresh=refresh,
            home=from_home(body),
        )

    def lead_options(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """Options come back in the acknowledgement itself, which Slack waits 3 seconds for."""
        team_id, user_id, query = str(context.team_id), body["user"]["id"], body.get("value") or ""
        try:
            found = self.deps.db.within(
                PICKER_SECONDS,
                lambda session: leads.picker_options(session, team_id=team_id, user_id=user_id, query=query),
            )
        except TooSlow:  # a lock held elsewhere, a slow query, or the database away
            ack(options=slow_lead_options())
            return
        ack(options=lead_options(found))

    def check_form(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """Problems are shown in the modal, in place, before it closes."""
        form = read_form(view)
        if form is None:
            ack(response_action="errors", errors={"lead": "Pick a lead from the list."})
            return
        _, outcome, on, _ = form
        tz = self.deps.directory.zone(client, str(context.team_id), body["user"]["id"])
        problem = touches.form_problem(outcome, on, local_date(self.deps.clock(), tz))
        if problem:
            ack(response_action="errors", errors={"on": problem})
            return
        ack()

    def submit(
        self, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        form = read_form(view)
        if form is None:
            return  # check_form kept the modal open
        lead_id, outcome, on, note = form
        team_id, user_id = str(context.team_id), body["user"]["id"]
        metadata = read_metadata(view)
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            if touches.form_problem(outcome, on, caller.today) is not None:
                return  # the date became invalid between the check and now (midnight): nothing logged
            result = touches.log_from_form(
                session, caller, lead_id=lead_id, outcome=outcome, on=on, note=note
            )
            # A form has no response_url: an ephemeral where the rep was, else a DM; owed with the touch.
            owed = outbox.reply(
                session,
                team_id,
                user_id,
                reply(result, caller.local_now, typed=note),
                deps=self.deps,
                response_url=None,
                channel_id=metadata.get("channel"),
            )
            told = self._owe_owner(session, caller, result, sending_now=True)
            refresh = metadata.get("refresh")
            if isinstance(refresh, list) and len(refresh) == 2 and isinstance(result, touches.TouchLogged):
                # Logged from a digest item: the digest shows what's left for today, owed with the touch.
                note = f"Logged a touch on {result.lead.name}."
                digest = live_digest(self.deps, client, team_id, user_id, note=note, session=session)
                told.append(
                    outbox.update(session, team_id, str(refresh[0]), str(refresh[1]), digest, deps=self.deps)
                )
        Courier(self.deps, client).send([owed, *told])
        if metadata.get("home") and isinstance(result, touches.TouchLogged):
            note = f"Logged a touch on {result.lead.name}."
            publish_home(self.deps, client, team_id, user_id, note=note)

    def finish_draft(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ids = clicked_ids(action, 2)
        if ids is None:
            respond(**stale_button().payload(), replace_original=False)
            return
        self._resume(
            body,
            respond,
            client,
            context,
            draft_id=ids[0],
            lead_id=ids[1],
            fix=FIXES.get(action["action_id"]),
        )

    def add_and_finish(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ids = clicked_ids(action, 1)
        if ids is None:
            respond(**stale_button().payload(), replace_original=False)
            return
        self._resume(body, respond, client, context, draft_id=ids[0], lead_id=None, fix=None)

    def _resume(
        self,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
        *,
        draft_id: int,
        lead_id: int | None,
        fix: Fix | None,
    ) -> None:
        team_id, user_id = str(context.team_id), body["user"]["id"]
        posts = HandoffPosts(self.deps)
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = lead_commands.resume(session, caller, draft_id=draft_id, lead_id=lead_id, fix=fix)
            owed = posts.owe(session, result, team_id) if isinstance(result, HANDED_OFF) else []
            owed += self._owe_owner(session, caller, result)
            # An answered question is replaced by its answer, so its buttons can't be pressed again;
            # a refused click (someone else's, or a second one) leaves the original alone.
            answered_now = not isinstance(result, DraftRefused)
            handed_off = isinstance(result, HANDED_OFF)
            message = posts.expected(result, caller) if handed_off else reply(result, caller.local_now)
            answer = answers.owe(self.deps, session, body, context, message, replace=answered_now)
        if handed_off:
            posts.resumed(result, body, client, owed, answer, message)
            return
        answers.send(self.deps, client, body, context, [*answer, *owed], message)

    def _owe_owner(
        self, session: Session, caller: Caller, result: object, *, sending_now: bool = False
    ) -> list[int]:
        """A touch logged on a colleague's lead: its owner hears of it (owed in the touch's own
        transaction, so it is sent once the touch is saved, and never lost or doubled).
        `sending_now`: the caller sends it right after the commit (written already taken)."""
        if not isinstance(result, touches.TouchLogged) or not result.for_someone_else:
            return []
        told = touch_on_your_lead(result, caller.local_now)
        owner_id = result.lead.owner_id
        return [outbox.post(session, caller.team_id, owner_id, told, deps=self.deps, sending_now=sending_now)]
