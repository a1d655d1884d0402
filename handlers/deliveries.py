"""Sending what Baton sends on a schedule: the morning digests, the managers' weekly reviews, orphaned-lead alerts.

Every scheduled message is claimed in the database (under the run's own token, renewed before
each recipient) and then handed to the outbox, which sends it once, records the outcome and
retries a failure on a later tick; one person's failure never stops the rest.
`live_digest` is the digest as it stands now, shown again after a button.
"""

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from coaching import digest_records
from coaching.digest_records import Kind, Recipient, share_of
from coaching.outbox import DELIVERY, new_owner, queue_delivery, renew_claims
from coaching.people import Profile
from handlers import outbox
from handlers.blocks.base import Message, with_note
from handlers.blocks.digest import digest, digest_done
from handlers.blocks.orphans import orphan_alert
from handlers.courier import Courier
from handlers.deps import Deps
from handlers.directory import everyone
from handlers.review_delivery import Picture, ReviewReport, Reviews
from handlers.review_delivery import Show as ShowReview
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
    def __init__(
        self,
        deps: Deps,
        client: WebClient,
        *,
        pacer: Pacer | None = None,
        team_id: str | None = None,
        clocks: int = 1,
    ) -> None:
        """`team_id`: only that workspace's people (its run, with its client); None: everyone
        (one bot token, which speaks for every team Baton holds). `clocks`: the clock processes
        sharing the mornings (CLOCK_PROCESSES), each claiming a share."""
        self.deps = deps
        self.client = client
        self.team_id = team_id
        self.pacer = pacer or Pacer(POSTS_PER_MINUTE, sleep=deps.sleep)
        self.clocks = clocks

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
            names = queries.people.rep_names(session, team_ids=sorted({r.team_id for r in claimed}))
            built: list[tuple[Recipient, Message | None]] = []
            for job in jobs:
                if job.digest.is_empty and not dry_run:  # a dry run prints the empty ones too
                    built.append((job.recipient, None))
                    continue
                name = _first_name(names.get(job.recipient.key))
                hour = at.astimezone(job.recipient.days.tz).hour
                built.append((job.recipient, digest(job.digest, job.rules, name=name, hour=hour)))
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
        managers: Iterable[str] = (),
        show_picture: ShowReview | None = None,
    ) -> ReviewReport:
        """The managers' weekly reviews (handlers/review_delivery.py): the message, then its picture.
        `managers` narrows a run to some of them; `show_picture` also gets each review's picture."""
        self.know_managers()

        def shown(recipient: Recipient, message: Message, picture: Picture | None) -> None:
            if show is not None:
                show(recipient, message)
            if show_picture is not None:
                show_picture(recipient, message, picture)

        reviews = Reviews(self.deps, self.client, self.pacer, self._queue)
        return reviews.run(
            at=at,
            everyone=everyone,
            force=force,
            dry_run=dry_run,
            managers=managers,
            show=shown,
            team_id=self.team_id,
        )

    def know_managers(self) -> None:
        """Look up managers Baton has no profile for (users.info), so their review and reminders
        come on their own working morning, never at a guessed UTC one."""
        with self.deps.db.readers.begin() as session:
            missing = digest_records.managers_without_profile(session, defaults=self.deps.defaults)
        for team_id, user_id in missing:
            if self.team_id in (None, team_id):
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
        """Claim who is due (under this run's token; a share at a time when several clocks share
        the morning), build, then queue and send each one through the outbox.

        A None message is a digest with nothing in it: recorded as delivered, nothing sent.
        """
        report = RunReport()
        owner = new_owner()
        with self.deps.bookkeeping() as session:
            due = due_for(session, now=at, defaults=self.deps.defaults, everyone=everyone)
            if self.team_id is not None:
                due = [r for r in due if r.team_id == self.team_id]
        report.due = len(due)
        share = None if dry_run or force else share_of(len(due), self.clocks)
        # Clocks claim their shares starting at different people, so their claims rarely collide.
        order = random.sample(due, len(due)) if share else due
        courier = Courier(self.deps, self.client, pacer=self.pacer)
        taken = 0
        while True:
            with self.deps.bookkeeping() as session:
                claimed = (
                    order
                    if dry_run
                    else digest_records.claim(
                        session, order, kind=kind, now=at, owner=owner, force=force, share=share
                    )
                )
            taken += len(claimed)
            if claimed:
                with self.deps.db.readers.begin() as session:
                    built = messages(session, claimed)
                self._deliver(kind, built, owner, courier, report, dry_run, show)
            if share is None or not claimed:  # a share at a time until the others have taken the rest
                break
        report.skipped += len(due) - taken
        return report

    def _deliver(
        self,
        kind: Kind,
        built: list[tuple[Recipient, Message | None]],
        owner: str,
        courier: Courier,
        report: RunReport,
        dry_run: bool,
        show: Show | None,
    ) -> None:
        for recipient, message in built:
            if dry_run:
                if show is not None and message is not None:
                    show(recipient, message)
                continue
            try:
                queued = self._queue(recipient, kind, message, owner)
            except Exception:  # one person's row must not stop everyone else's digest
                log.exception("Couldn't queue the %s for %s", kind.value, recipient.user_id)
                report.failed.append(recipient.user_id)
                continue
            if queued is None:
                report.skipped += 1  # another run took this claim over: it is that run's to send
            elif message is None:
                report.empty.append(recipient.user_id)
            else:
                outcome = courier.send([queued]).outcomes.get(queued)
                sent = outcome is not None and outcome.status == "sent"
                (report.sent if sent else report.failed).append(recipient.user_id)
                if not sent:
                    log.warning(
                        "The %s for %s isn't delivered yet (%s); the outbox tries again",
                        kind.value,
                        recipient.user_id,
                        outcome.error if outcome else "taken by another sender",
                    )

    def _queue(self, recipient: Recipient, kind: Kind, message: Message | None, owner: str) -> int | None:
        """Renew this run's claims, and turn this recipient's claim into an outbox row (or close it)."""
        now = self.deps.clock()
        with self.deps.bookkeeping() as session:
            renew_claims(session, owner=owner, now=now)
            delivery_id = queue_delivery(
                session,
                owner=owner,
                team_id=recipient.team_id,
                user_id=recipient.user_id,
                kind=kind.value,
                local_date=recipient.local_date,
                now=now,
                empty=message is None,
            )
            if delivery_id is None or message is None:
                return delivery_id
            return outbox.post(
                session,
                recipient.team_id,
                recipient.user_id,
                message,
                deps=self.deps,
                subject=DELIVERY,
                subject_id=delivery_id,
            )

    def owe_orphan_alert(self, session: Session, team_id: str, departed: str) -> list[int]:
        """Tell the managers at once that someone who left still owns open leads: owed in the
        transaction that learnt they left, so the alert is never lost between the two."""
        found = digest_records.orphans(
            session, team_id=team_id, departed=departed, now=self.deps.clock(), defaults=self.deps.defaults
        )
        if not found.items:
            return []
        message = orphan_alert(departed, found.items)
        targets = [found.manager_channel] if found.manager_channel else list(found.managers)
        return [outbox.post(session, team_id, target, message, deps=self.deps) for target in targets]

    def send(self, owed: Iterable[int]) -> None:
        Courier(self.deps, self.client, pacer=self.pacer).send(owed)

    def refresh_directory(self, team_id: str) -> list[str]:
        """Everyone in the workspace from users.list (page by page: Tier 2); each person learnt in
        one transaction with the managers' alert if they have just left. Returns who has left."""
        departed: list[str] = []
        for user in everyone(self.client):
            with self.deps.bookkeeping() as session:
                if not self.deps.directory.learn(session, team_id, user):
                    continue
                departed.append(str(user["id"]))
                owed = self.owe_orphan_alert(session, team_id, str(user["id"]))
            self.send(owed)
        return departed


def live_digest(
    deps: Deps, client: WebClient, team_id: str, user_id: str, *, note: str, session: Session | None = None
) -> Message:
    """The digest is a live list: after a button it shows what still needs doing today. Read in
    `session` (the work's own transaction, so it shows the change) or a read of its own."""
    profile = deps.directory.profile(client, team_id, user_id)  # known already: the click's caller
    if session is None:
        with deps.db.readers.begin() as reading:
            return _live_digest(deps, reading, profile, team_id, user_id, note=note)
    return _live_digest(deps, session, profile, team_id, user_id, note=note)


def _live_digest(
    deps: Deps, session: Session, profile: Profile, team_id: str, user_id: str, *, note: str
) -> Message:
    now = deps.clock()
    current = digest_records.digest_now(
        session, team_id=team_id, user_id=user_id, now=now, tz=profile.zone, defaults=deps.defaults
    )
    rules = deps.caller(session, team_id, user_id, profile.zone).rules
    name = _first_name(profile.name)
    hour = now.astimezone(profile.zone).hour
    message = digest_done() if current.is_empty else digest(current, rules, name=name, hour=hour)
    return with_note(message, note)


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.strip() else None
