"""/handoff, the managers' Approve / Reject buttons, the operations card and its "I'll take it" button.

Everything a hand-off owes people is written to the outbox in the decision's own transaction
(handlers/handoff_posts.py) and sent after it commits; only the click that won the decision owes
anything, so racing clicks produce one set of messages.
"""

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from coaching import handoffs, leads, ops_handoffs, transfers
from coaching.handoff_results import (
    AlreadyDecided,
    Decided,
    NotAManager,
    OpsAlreadyClaimed,
    OpsClaimed,
    OpsForm,
    Unknown,
)
from coaching.parsing import mentioned
from handlers import answers, outbox
from handlers.blocks.base import Message, plain, stale_button
from handlers.blocks.handoffs import (
    handoff_modal,
    handoff_reply,
    ops_already_taken,
    ops_modal,
    ops_taken,
    owner_picked,
    reject_reason_modal,
    transfer_already,
    transfer_decided,
    transfer_not_yours,
    unknown_request,
)
from handlers.blocks.ids import Action, read_ids
from handlers.courier import Courier
from handlers.deps import Deps
from handlers.handoff_posts import HandoffPosts
from handlers.payloads import clicked_ids, field, from_home, read_metadata, selected_user
from handlers.registration import answered, lazily
from handlers.say import publish_home
from store import queries

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    handler = Handoffs(deps)
    lazily(app.command("/handoff"), handler.command)
    lazily(app.action(Action.TRANSFER_APPROVE), handler.approve)
    lazily(app.action(Action.TRANSFER_REJECT), handler.reject)
    lazily(app.action(Action.TRANSFER_REJECT_WHY), handler.ask_reason)
    lazily(app.view(Action.TRANSFER_REASON_MODAL), handler.reason_given)
    answered(app.view(Action.OPS_MODAL), handler.check_ops_form, handler.ops_form_sent)
    lazily(app.action(Action.OPS_CLAIM), handler.claim)
    lazily(app.action(Action.HANDOFF_OPEN), handler.open_form)
    answered(app.view(Action.HANDOFF_MODAL), handler.check_handoff_form, handler.form_sent)


class Handoffs:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.posts = HandoffPosts(deps)

    # ---- /handoff ------------------------------------------------------------------------------
    def command(
        self, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id, text = str(context.team_id), command["user_id"], command.get("text") or ""
        for person in mentioned(text):
            self.deps.directory.profile(client, team_id, person)  # so the use case knows who they are
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = handoffs.handoff_command(session, caller, text)
            owed = self.posts.owe(session, result, team_id)
            # The answer is owed with the change (unless a form opens instead). Where it says how
            # the operations card went, it says the card is posted, and is corrected before it
            # is sent if the card didn't go (`HandoffPosts.deliver`).
            message = self.posts.expected(result, caller, typed=text)
            answer = (
                []
                if isinstance(result, OpsForm)
                else answers.owe(self.deps, session, command, context, message)
            )
        if isinstance(result, OpsForm):
            view = ops_modal(result.lead, channel_id=command.get("channel_id"))
            client.views_open(trigger_id=command["trigger_id"], view=view)
            return
        self.posts.deliver(result, client, owed, answer, message)

    # ---- managers decide -------------------------------------------------------------------------
    def approve(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        self._decide(body, action.get("value"), respond, client, context, approve=True, note=None)

    def reject(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        self._decide(body, action.get("value"), respond, client, context, approve=False, note=None)

    def ask_reason(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        # Writes nothing: killed before its answer, the click is simply run again.
        ids = clicked_ids(action, 1)
        if ids is None:
            respond(**stale_button().payload(), response_type="ephemeral", replace_original=False)
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id, write=False) as (session, caller):
            refused = transfers.may_decide(session, caller, transfer_id=ids[0])
        if refused is not None:  # said at the click, before anyone writes a reason for nothing
            respond(**_refusal(refused).payload(), response_type="ephemeral", replace_original=False)
            return
        client.views_open(trigger_id=body["trigger_id"], view=reject_reason_modal(ids[0]))

    def reason_given(
        self, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        reason = field(view, Action.FIELD_REASON)
        metadata = read_metadata(view)
        transfer_id = metadata.get("transfer")
        if not isinstance(transfer_id, int):
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = transfers.decide(session, caller, transfer_id=transfer_id, approve=False, note=reason)
            owed = self.posts.owe(session, result, team_id)
            if not isinstance(result, Decided):
                # A form has no response_url, and the modal has closed: told by DM, owed with the decision.
                refusal = _refusal(result)
                owed.append(
                    outbox.reply(
                        session, team_id, user_id, refusal, deps=self.deps, response_url=None, channel_id=None
                    )
                )
        Courier(self.deps, client).send(owed)

    def _decide(
        self,
        body: dict[str, Any],
        value: str | None,
        respond: Respond,
        client: WebClient,
        context: BoltContext,
        *,
        approve: bool,
        note: str | None,
    ) -> None:
        ids = read_ids(value, 1)
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = (
                transfers.decide(session, caller, transfer_id=ids[0], approve=approve, note=note)
                if ids is not None
                else None
            )
            owed = self.posts.owe(session, result, team_id)
            if isinstance(result, Decided):
                # Every copy of the request, this one included, is updated by `owe`: nothing more to say.
                message = plain(f"{result.transfer.lead.name}: {result.transfer.status.value}")
            else:
                message = stale_button() if ids is None else _refusal(result)
                owed += answers.owe(self.deps, session, body, context, message)
            if isinstance(result, AlreadyDecided):
                # This copy may still show buttons if its update hasn't landed yet: show the outcome.
                decided = transfer_decided(result.transfer)
                owed += answers.owe(self.deps, session, body, context, decided, replace=True)
        answers.send(self.deps, client, body, context, owed, message)

    # ---- operations ------------------------------------------------------------------------------
    def check_ops_form(self, ack: Ack, view: dict[str, Any]) -> None:
        if not field(view, Action.FIELD_SOLD).strip():
            ack(
                response_action="errors",
                errors={"sold": "Say what was sold, so operations knows what to deliver."},
            )
            return
        ack()

    def ops_form_sent(
        self, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        metadata = read_metadata(view)
        lead_id = metadata.get("lead")
        if not isinstance(lead_id, int) or not field(view, Action.FIELD_SOLD).strip():
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = ops_handoffs.hand_to_ops_by_id(
                session,
                caller,
                lead_id=lead_id,
                sold=field(view, Action.FIELD_SOLD),
                timeline=field(view, Action.FIELD_TIMELINE),
                notes=field(view, Action.FIELD_NOTES),
            )
            owed = self.posts.owe(session, result, team_id)
            # A form has no response_url: an ephemeral where the rep was, else a DM; owed with the hand-off.
            message = (
                unknown_request() if isinstance(result, Unknown) else self.posts.expected(result, caller)
            )
            answer = outbox.reply(
                session,
                team_id,
                user_id,
                message,
                deps=self.deps,
                response_url=None,
                channel_id=metadata.get("channel"),
            )
        self.posts.deliver(result, client, owed, [answer], message)

    # ---- the hand-off form (from the digest, the weekly review, a lead card) ---------------------
    def open_form(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ids = clicked_ids(action, 1)
        if ids is None:
            respond(**stale_button().payload(), response_type="ephemeral", replace_original=False)
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id, write=False) as (session, caller):
            named = leads.lead_and_owner(session, team_id=team_id, lead_id=ids[0])
        if named is None:
            respond(**stale_button().payload(), response_type="ephemeral", replace_original=False)
            return
        channel = (body.get("channel") or {}).get("id")
        view = handoff_modal(
            named[0],
            named[1],
            manager=caller.is_manager,
            channel_id=channel,
            home=from_home(body),
            owner_id=named[2],
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def check_handoff_form(self, ack: Ack, view: dict[str, Any]) -> None:
        owner = read_metadata(view).get("owner")
        if owner and selected_user(view, Action.FIELD_TO) == owner:
            ack(response_action="errors", errors=owner_picked())
            return
        ack()

    def form_sent(
        self, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        metadata = read_metadata(view)
        to_user = selected_user(view, Action.FIELD_TO)
        if to_user and to_user == metadata.get("owner"):
            return  # refused in the form by `check_handoff_form`: nothing more to say
        lead_id = metadata.get("lead")
        if not isinstance(lead_id, int) or not to_user:
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        self.deps.directory.profile(client, team_id, to_user)
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            lead = queries.leads.lead(session, team_id=team_id, lead_id=lead_id)
            result = (
                None
                if lead is None
                else transfers.request_transfer(
                    session, caller, lead=lead, to_user=to_user, reason=field(view, Action.FIELD_WHY)
                )
            )
            owed = self.posts.owe(session, result, team_id)
            # A form has no response_url: an ephemeral where the rep was, else a DM; owed with the request.
            message = unknown_request() if result is None else handoff_reply(result, caller.local_now)
            owed.append(
                outbox.reply(
                    session,
                    team_id,
                    user_id,
                    message,
                    deps=self.deps,
                    response_url=None,
                    channel_id=metadata.get("channel"),
                )
            )
        Courier(self.deps, client).send(owed)
        if metadata.get("home"):
            publish_home(self.deps, client, team_id, user_id, note=message.text)

    def claim(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ids = clicked_ids(action, 1)
        if ids is None:
            respond(**stale_button().payload(), response_type="ephemeral", replace_original=False)
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = ops_handoffs.claim_ops(session, caller, handoff_id=ids[0])
            owed: list[int] = []
            if isinstance(result, OpsClaimed):
                owed = self.posts.owe_claim(session, team_id, result)
                message = ops_taken(result.handoff)
            else:
                message = (
                    ops_already_taken(result.handoff)
                    if isinstance(result, OpsAlreadyClaimed)
                    else unknown_request()
                )
                owed += answers.owe(self.deps, session, body, context, message)
        answers.send(self.deps, client, body, context, owed, message)


def _refusal(result: object) -> Message:
    if isinstance(result, NotAManager):
        return transfer_not_yours(result)
    if isinstance(result, AlreadyDecided):
        return transfer_already(result)
    return unknown_request()
