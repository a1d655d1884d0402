"""The morning digest's buttons (Snooze, Back-burner) and the reassign pickers of orphaned leads.

After a button the digest (or the Home tab) is shown again with what is still to do today.
"""

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from coaching import digest_records, lead_commands, transfers
from coaching.handoff_results import Decided
from coaching.leads import NotAllowed, StatusChanged
from handlers import answers
from handlers.blocks.base import Message, Reshown, plain, reshown, stale_button
from handlers.blocks.handoffs import handoff_reply
from handlers.blocks.ids import Action
from handlers.blocks.orphans import reassigned
from handlers.blocks.replies import reply
from handlers.blocks.text import day
from handlers.deliveries import live_digest
from handlers.deps import Deps
from handlers.handoff_posts import HandoffPosts
from handlers.payloads import block_ids, clicked_ids
from handlers.registration import lazily
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
        note: str | None = None
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
                message = stale_button()
            elif isinstance(snoozed, NotAllowed):
                message = reply(snoozed, caller.local_now)
            else:
                note = f"Snoozed {snoozed.lead.name} until {day(snoozed.until, caller.today)}."
                message = self.live(session, client, context, body, note=note)
            # A refusal goes beside the digest, which stays as it was; a snooze shows it again.
            owed = answers.owe(self.deps, session, body, context, message, replace=note is not None)
        answers.send(self.deps, client, body, context, owed, message, note=note)

    def backburner(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ids = clicked_ids(action, 1)
        team_id, user_id = str(context.team_id), body["user"]["id"]
        note: str | None = None
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            result = lead_commands.lead_action(session, caller, ids[0], "backburner") if ids else None
            if result is None:
                message = stale_button()
            elif not isinstance(result, StatusChanged):
                message = reply(result, caller.local_now)
            else:
                note = f"{result.lead.name} is on the back-burner."
                message = self.live(session, client, context, body, note=note)
            owed = answers.owe(self.deps, session, body, context, message, replace=note is not None)
        answers.send(self.deps, client, body, context, owed, message, note=note)

    def live(
        self, session: Session, client: WebClient, context: BoltContext, body: dict[str, Any], *, note: str
    ) -> Message:
        """The digest is a live list: after a button it shows what's still to do, read in the
        click's own transaction (so it shows the change) and owed in place of the digest."""
        return live_digest(
            self.deps, client, str(context.team_id), body["user"]["id"], note=note, session=session
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
        team_id, user_id = str(context.team_id), body["user"]["id"]
        if ids is not None and to_user:
            self.deps.directory.profile(client, team_id, to_user)  # so the use case knows who they are
        note: str | None = None
        with self.deps.acting(client, team_id, user_id) as (session, caller):
            lead = (
                queries.leads.lead(session, team_id=team_id, lead_id=ids[0])
                if caller.is_manager and ids is not None and to_user
                else None
            )
            result = (
                transfers.request_transfer(
                    session, caller, lead=lead, to_user=to_user, reason="The owner left"
                )
                if lead is not None and to_user
                else None
            )
            owed = HandoffPosts(self.deps).owe(session, result, team_id)
            message: Message
            if ids is None or not to_user:
                message = stale_button()
            elif not caller.is_manager:
                message = plain("Only managers can reassign leads. Nothing changed.")
            elif not isinstance(result, Decided):
                message = stale_button() if result is None else handoff_reply(result, caller.local_now)
            else:
                note = f"{result.transfer.lead.name} now belongs to <@{to_user}>."
                done = reassigned(block_id, result.transfer.lead.name, to_user, user_id)
                message = reshown(
                    body.get("message") or {}, block_id, done, fallback="Orphaned leads"
                ) or plain(note)
            # The alert shows who has the lead now, in place of its picker; anything else goes beside it.
            owed += answers.owe(
                self.deps, session, body, context, message, replace=isinstance(message, Reshown)
            )
        answers.send(self.deps, client, body, context, owed, message, note=note)
