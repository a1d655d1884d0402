"""The morning digest's buttons (Snooze, Back-burner) and the reassign pickers of orphaned leads.

After a button the digest (or the Home tab) is shown again with what is still to do today.
"""

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from coaching import digest_records, lead_commands, transfers
from coaching.handoff_results import Decided
from coaching.leads import NotAllowed, StatusChanged
from handlers import outbox
from handlers.blocks.base import plain, replace_block, stale_button
from handlers.blocks.handoffs import handoff_reply
from handlers.blocks.ids import Action
from handlers.blocks.orphans import reassigned
from handlers.blocks.replies import reply
from handlers.blocks.text import day
from handlers.deliveries import live_digest
from handlers.deps import Deps
from handlers.handoff_posts import HandoffPosts
from handlers.payloads import block_ids, clicked_ids, from_home
from handlers.registration import lazily
from handlers.say import answer, publish_home
from store import queries


def register(app: App, deps: Deps) -> None:
    buttons = DigestButtons(deps)
    lazily(app.action(Action.DIGEST_SNOOZE), buttons.snooze)
    lazily(app.action(Action.DIGEST_BACKBURNER), buttons.backburner)
    lazily(app.action(Action.ORPHAN_REASSIGN), buttons.reassign)


class DigestButtons:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def snooze(
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
            snoozed = (
                digest_records.snooze(
                    session,
                    team_id=team_id,
                    user_id=user_id,
                    is_manager=caller.is_manager,
                    lead_id=ids[0],
                    today=caller.today,
                    workdays=caller.workdays,
                )
                if ids
                else None
            )
        if snoozed is None:
            answer(self.deps, body, respond, client, context, stale_button(), replace=False)
            return
        if isinstance(snoozed, NotAllowed):
            answer(self.deps, body, respond, client, context, reply(snoozed, caller.local_now), replace=False)
            return
        self.refresh(
            body,
            respond,
            client,
            context,
            note=f"Snoozed {snoozed.lead.name} until {day(snoozed.until, caller.today)}.",
        )

    def backburner(
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
            result = lead_commands.lead_action(session, caller, ids[0], "backburner")
        if not isinstance(result, StatusChanged):
            answer(self.deps, body, respond, client, context, reply(result, caller.local_now), replace=False)
            return
        self.refresh(body, respond, client, context, note=f"{result.lead.name} is on the back-burner.")

    def refresh(
        self, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext, *, note: str
    ) -> None:
        """The digest (or the Home tab) is a live list: after a button it shows what's still to do."""
        team_id, user_id = str(context.team_id), body["user"]["id"]
        if from_home(body):
            publish_home(self.deps, client, team_id, user_id, note=note)
            return
        respond(
            **live_digest(self.deps, client, team_id, user_id, note=note).payload(), replace_original=True
        )

    def reassign(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        block_id = str(action.get("block_id") or "")
        ids = block_ids(action, Action.ORPHAN_BLOCK)
        to_user = action.get("selected_user")
        if ids is None or not to_user:
            answer(self.deps, body, respond, client, context, stale_button(), replace=False)
            return
        team_id, user_id = str(context.team_id), body["user"]["id"]
        self.deps.directory.profile(client, team_id, to_user)  # so the use case knows who they are
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            lead = queries.leads.lead(session, team_id=team_id, lead_id=ids[0]) if caller.is_manager else None
            result = (
                transfers.request_transfer(
                    session, caller, lead=lead, to_user=to_user, reason="The owner left"
                )
                if lead is not None
                else None
            )
            owed = HandoffPosts(self.deps).owe(session, result, team_id)
        outbox.Courier(self.deps, client).send(owed)
        if not caller.is_manager:
            refusal = plain("Only managers can reassign leads. Nothing changed.")
            answer(self.deps, body, respond, client, context, refusal, replace=False)
            return
        if not isinstance(result, Decided):
            told = stale_button() if result is None else handoff_reply(result, caller.local_now)
            answer(self.deps, body, respond, client, context, told, replace=False)
            return
        moved = f"{result.transfer.lead.name} now belongs to <@{to_user}>."
        if from_home(body):
            publish_home(self.deps, client, team_id, user_id, note=moved)
            return
        message = body.get("message") or {}
        done = reassigned(block_id, result.transfer.lead.name, to_user, user_id)
        updated = replace_block(message.get("blocks") or [], block_id, done)
        if updated is not None:
            respond(text=str(message.get("text") or "Orphaned leads"), blocks=updated, replace_original=True)
