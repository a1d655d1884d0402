"""Sending what Baton sends on a schedule: the morning digests, the managers' weekly reviews, orphaned-lead alerts.

Every scheduled message is claimed in the database before it is sent and its outcome recorded
after; a failure for one person is recorded and retried on a later tick, and never stops the rest.
`live_digest` is the digest as it stands now, shown again after a button.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from coaching import digest_records
from coaching.digest_records import Kind, Recipient
from handlers.blocks.base import Message, with_note
from handlers.blocks.digest import digest, digest_done
from handlers.blocks.orphans import orphan_alert
from handlers.blocks.review import review
from handlers.deps import Deps
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
            jobs = digest_records.digests(session, claimed, now=at, defaults=self.deps.defaults)
            names = queries.rep_names(session, sorted({r.team_id for r in claimed}))
            built: list[tuple[Recipient, Message | None]] = []
            for job in jobs:
                if job.digest.is_empty and not dry_run:  # a dry run prints the empty ones too
                    built.append((job.recipient, None))
                    continue
                name = _first_name(names.get(job.recipient.key))
                built.append((job.recipient, digest(job.digest, job.rules, name=name)))
            return built

        return self._run(
            Kind.DIGEST, digest_records.due_digests, messages, at, everyone, force, dry_run, show
        )

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
            jobs = digest_records.reviews(session, claimed, now=at, defaults=self.deps.defaults)
            return [(job.recipient, review(job.review)) for job in jobs]

        self.know_managers()

        return self._run(
            Kind.REVIEW, digest_records.due_reviews, messages, at, everyone, force, dry_run, show
        )

    def know_managers(self) -> None:
        """Look up managers Baton has no profile for (users.info), so their review and reminders
        come on their own working morning, never at a guessed UTC one."""
        with self.deps.db.readers.begin() as session:
            missing = digest_records.managers_without_profile(session, defaults=self.deps.defaults)
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
            claimed = due if dry_run else digest_records.claim(session, due, kind=kind, now=at, force=force)
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
            digest_records.finish(
                session, recipient, kind=kind, status=status, now=self.deps.clock(), **details
            )

    def orphans(self, team_id: str, departed: str) -> int:
        """Tell the managers at once that someone who left still owns open leads."""
        with self.deps.db.readers.begin() as session:
            found = digest_records.orphans(
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
        current = digest_records.digest_now(
            session, team_id=team_id, user_id=user_id, now=now, tz=profile.zone, defaults=deps.defaults
        )
        rules = deps.caller(session, team_id, user_id, profile.zone).rules
    name = _first_name(profile.name)
    message = digest_done() if current.is_empty else digest(current, rules, name=name)
    return with_note(message, note)


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.strip() else None
