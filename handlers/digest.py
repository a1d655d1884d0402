"""The morning digest, the managers' weekly review and orphaned-lead alerts: sending them, and their buttons.

Every scheduled message is claimed in the database before it is sent and its outcome recorded
after; a failure for one person is recorded and retried on a later tick, and never stops the rest.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from coaching import commands, digests, handoffs
from coaching.digests import Kind, Recipient
from coaching.handoffs import Decided
from coaching.leads import StatusChanged
from handlers.blocks.base import Message, plain, replace_block, stale_button, with_note
from handlers.blocks.digest import digest, digest_done
from handlers.blocks.handoffs import handoff_reply
from handlers.blocks.ids import Action
from handlers.blocks.orphans import orphan_alert, reassigned
from handlers.blocks.replies import reply
from handlers.blocks.review import review
from handlers.blocks.text import day
from handlers.deps import Deps
from handlers.errors import lazily
from handlers.handoffs import Handoffs
from handlers.home import HomeTab, answer
from handlers.payloads import block_ids, clicked_ids, from_home
from handlers.say import Pacer
from store import queries

log = logging.getLogger(__name__)
POSTS_PER_MINUTE = 300  # well inside chat.postMessage's workspace-wide allowance


@dataclass
class RunReport:
    """What one run did, person by person."""

    due: int = 0
    sent: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0  # already delivered today by someone else's run

    def __str__(self) -> str:
        return (
            f"{self.due} due, {len(self.sent)} sent, {len(self.empty)} with nothing to say, "
            f"{len(self.failed)} failed (retried later), {self.skipped} already delivered today"
        )


Show = Callable[[Recipient, Message], None]


class Deliveries:
    def __init__(self, deps: Deps, client: WebClient, *, pacer: Pacer | None = None) -> None:
        self.deps = deps
        self.client = client
        self.pacer = pacer or Pacer(POSTS_PER_MINUTE, sleep=deps.sleep)

    def digests(
        self,
        *,
        at: datetime,
        everyone: bool = False,
        force: bool = False,
        dry_run: bool = False,
        show: Show | None = None,
    ) -> RunReport:
        def messages(session: Session, claimed: list[Recipient]) -> list[tuple[Recipient, Message | None]]:
            jobs = digests.digests(session, claimed, now=at, defaults=self.deps.defaults)
            names = queries.rep_names(session, sorted({r.team_id for r in claimed}))
            built: list[tuple[Recipient, Message | None]] = []
            for job in jobs:
                if job.digest.is_empty and not dry_run:  # a dry run prints the empty ones too
                    built.append((job.recipient, None))
                    continue
                name = _first_name(names.get(job.recipient.key))
                built.append((job.recipient, digest(job.digest, job.rules, name=name)))
            return built

        return self._run(Kind.DIGEST, digests.due_digests, messages, at, everyone, force, dry_run, show)

    def reviews(
        self,
        *,
        at: datetime,
        everyone: bool = False,
        force: bool = False,
        dry_run: bool = False,
        show: Show | None = None,
    ) -> RunReport:
        def messages(session: Session, claimed: list[Recipient]) -> list[tuple[Recipient, Message | None]]:
            jobs = digests.reviews(session, claimed, now=at, defaults=self.deps.defaults)
            return [(job.recipient, review(job.review)) for job in jobs]

        self.know_managers()

        return self._run(Kind.REVIEW, digests.due_reviews, messages, at, everyone, force, dry_run, show)

    def know_managers(self) -> None:
        """Look up managers Baton has no profile for (users.info), so their review and reminders
        come on their own working morning, never at a guessed UTC one."""
        with self.deps.db.readers.begin() as session:
            missing = digests.managers_without_profile(session, defaults=self.deps.defaults)
        for team_id, user_id in missing:
            self.deps.directory.profile(self.client, team_id, user_id)

    def _run(
        self,
        kind: Kind,
        due_for: Callable[..., list[Recipient]],
        messages: Callable[[Session, list[Recipient]], list[tuple[Recipient, Message | None]]],
        at: datetime,
        everyone: bool,
        force: bool,
        dry_run: bool,
        show: Show | None,
    ) -> RunReport:
        """Claim who is due (in one transaction, so no one gets it twice), build, then send after the commit.

        A None message is a digest with nothing in it: recorded as delivered, nothing sent.
        """
        report = RunReport()
        with self.deps.db.sessions.begin() as session:
            due = due_for(session, now=at, defaults=self.deps.defaults, everyone=everyone)
            claimed = due if dry_run else digests.claim(session, due, kind=kind, now=at, force=force)
        report.due, report.skipped = len(due), len(due) - len(claimed)
        with self.deps.db.readers.begin() as session:
            built = messages(session, claimed)
        for recipient, message in built:
            if dry_run:
                if show is not None and message is not None:
                    show(recipient, message)
            elif message is None:
                self._finish(recipient, kind, "empty", at)
                report.empty.append(recipient.user_id)
            else:
                self._send(recipient, kind, message, at, report)
        return report

    def _send(
        self, recipient: Recipient, kind: Kind, message: Message, at: datetime, report: RunReport
    ) -> None:
        self.pacer.wait()
        try:
            response = self.client.chat_postMessage(channel=recipient.user_id, **message.payload())
        except SlackApiError as error:
            code = str(error.response.get("error") or error.response.status_code)
            log.warning("Couldn't deliver the %s to %s: %s", kind.value, recipient.user_id, code)
            self._finish(recipient, kind, "failed", at, error=code)
            report.failed.append(recipient.user_id)
            return
        except Exception as error:  # the network gave up after the retries: try again on a later tick
            log.warning("Couldn't reach Slack for %s's %s: %s", recipient.user_id, kind.value, error)
            self._finish(recipient, kind, "failed", at, error=type(error).__name__)
            report.failed.append(recipient.user_id)
            return
        self._finish(recipient, kind, "sent", at, channel=str(response["channel"]), ts=str(response["ts"]))
        report.sent.append(recipient.user_id)

    def _finish(
        self, recipient: Recipient, kind: Kind, status: str, at: datetime, **details: str | None
    ) -> None:
        with self.deps.db.sessions.begin() as session:
            digests.finish(session, recipient, kind=kind, status=status, now=self.deps.clock(), **details)

    def orphans(self, team_id: str, departed: str) -> int:
        """Tell the managers at once that someone who left still owns open leads."""
        with self.deps.db.readers.begin() as session:
            found = digests.orphans(
                session,
                team_id=team_id,
                departed=departed,
                now=self.deps.clock(),
                defaults=self.deps.defaults,
            )
        if not found.items:
            return 0
        message = orphan_alert(departed, found.items)
        targets = [found.manager_channel] if found.manager_channel else list(found.managers)
        for target in targets:
            self.pacer.wait()
            try:
                self.client.chat_postMessage(channel=target, **message.payload())
            except SlackApiError as error:
                log.warning("Couldn't tell %s about orphaned leads: %s", target, error.response.get("error"))
        return len(found.items)


def live_digest(deps: Deps, client: WebClient, team_id: str, user_id: str, *, note: str) -> Message:
    """The digest is a live list: after a button it shows what still needs doing today."""
    profile = deps.directory.profile(client, team_id, user_id)
    with deps.db.readers.begin() as session:
        now = deps.clock()
        current = digests.digest_now(
            session, team_id=team_id, user_id=user_id, now=now, tz=profile.zone, defaults=deps.defaults
        )
        rules = deps.caller(session, team_id, user_id, profile.zone).rules
    name = _first_name(profile.name)
    message = digest_done() if current.is_empty else digest(current, rules, name=name)
    return with_note(message, note)


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.strip() else None


# ---- the buttons --------------------------------------------------------------------------------------


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
                digests.snooze(
                    session,
                    team_id=team_id,
                    user_id=user_id,
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
            result = commands.lead_action(session, caller, ids[0], "backburner")
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
            HomeTab(self.deps).publish(client, team_id, user_id, note=note)
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
            lead = queries.lead(session, team_id, ids[0]) if caller.is_manager else None
            result = (
                handoffs.request_transfer(
                    session, caller, lead=lead, to_user=to_user, reason="The owner left"
                )
                if lead is not None
                else None
            )
        if not caller.is_manager:
            refusal = plain("Only managers can reassign leads. Nothing changed.")
            answer(self.deps, body, respond, client, context, refusal, replace=False)
            return
        if not isinstance(result, Decided):
            told = stale_button() if result is None else handoff_reply(result, caller.local_now)
            answer(self.deps, body, respond, client, context, told, replace=False)
            return
        Handoffs(self.deps).announce(client, team_id, result.transfer)
        moved = f"{result.transfer.lead.name} now belongs to <@{to_user}>."
        if from_home(body):
            HomeTab(self.deps).publish(client, team_id, user_id, note=moved)
            return
        message = body.get("message") or {}
        done = reassigned(block_id, result.transfer.lead.name, to_user, user_id)
        updated = replace_block(message.get("blocks") or [], block_id, done)
        if updated is not None:
            respond(text=str(message.get("text") or "Orphaned leads"), blocks=updated, replace_original=True)
