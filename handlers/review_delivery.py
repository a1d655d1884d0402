"""Sending the managers' weekly review: the message in words, then its picture as a file.

The text and the picture are two deliveries, claimed and recorded apart (kinds `review` and
`review_chart`): the message is complete without the picture, so a failed upload never holds it
back, and the upload alone is retried on a later tick, like any failed delivery, without sending
the text twice. Reviews that are the same (one team, one day, one time zone) are drawn once.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coaching import digest_records, review_records
from coaching.digest_records import Kind, Recipient
from coaching.outbox import new_owner
from coaching.review_records import WeeklyReview
from handlers.blocks.base import Message
from handlers.blocks.review import weekly_review
from handlers.courier import Courier
from handlers.deps import Deps
from handlers.review_chart import alt_text, review_png
from handlers.say import Pacer
from store import queries

log = logging.getLogger(__name__)

PICTURE_FOLLOWS = "The week in a picture follows: touches per rep per day, and the attempt curve."


@dataclass(frozen=True)
class Picture:
    png: bytes
    alt: str
    filename: str


@dataclass
class ReviewReport:
    """What one run did, manager by manager; the pictures went out beside the messages."""

    due: int = 0
    sent: list[str] = field(default_factory=list)
    pictures: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0  # already delivered today by someone else's run
    dry_run: bool = False
    printed: int = 0  # a dry run's reviews, shown and not sent

    def __str__(self) -> str:
        if self.dry_run:
            drawn = len(self.pictures)
            return (
                f"{self.due} due, {self.printed} printed, {drawn} picture{'' if drawn == 1 else 's'} drawn; "
                "nothing sent (dry run)"
            )
        return (
            f"{self.due} due, {len(self.sent)} sent, {len(self.pictures)} pictures, "
            f"{len(self.failed)} failed (retried later), {self.skipped} already delivered today"
        )


Show = Callable[[Recipient, Message, Picture | None], None]
# Hands one recipient's claimed review to the outbox (handlers/deliveries.py): its outbox id, or
# None when another run has taken the claim over.
Queue = Callable[[Recipient, Kind, Message, str], int | None]


class Reviews:
    def __init__(self, deps: Deps, client: WebClient, pacer: Pacer, queue: Queue) -> None:
        self.deps = deps
        self.client = client
        self.pacer = pacer
        self.queue = queue

    def run(
        self,
        *,
        at: datetime,
        everyone: bool = False,
        force: bool = False,
        dry_run: bool = False,
        managers: Iterable[str] = (),
        show: Show | None = None,
        team_id: str | None = None,
    ) -> ReviewReport:
        """Claim each due review's text and picture, build them after the commit, then send them:
        the text through the outbox (once, retried there), then the picture as a file."""
        report = ReviewReport(dry_run=dry_run)
        only = set(managers)
        owner = new_owner()
        with self.deps.bookkeeping() as session:
            due = digest_records.due_reviews(
                session, now=at, defaults=self.deps.defaults, everyone=everyone or bool(only)
            )
            if only:
                due = [r for r in due if r.user_id in only]
            if team_id is not None:
                due = [r for r in due if r.team_id == team_id]
            if dry_run:
                texts, charts = due, due
            else:
                texts = digest_records.claim(session, due, kind=Kind.REVIEW, now=at, owner=owner, force=force)
                charts = review_records.claim_pictures(session, due, now=at, owner=owner, force=force)
        wanted = {r.key for r in texts} | {r.key for r in charts}
        needed = [r for r in due if r.key in wanted]
        report.due, report.skipped = len(due), len(due) - len(needed)
        with self.deps.db.readers.begin() as session:
            jobs = review_records.weekly_reviews(session, needed, now=at, defaults=self.deps.defaults)
            names = queries.people.rep_names(session, team_ids=sorted({r.team_id for r in needed}))
        text_keys, chart_keys = {r.key for r in texts}, {r.key for r in charts}
        drawn: dict[tuple[object, ...], Picture] = {}
        courier = Courier(self.deps, self.client, pacer=self.pacer)
        for job in jobs:
            recipient, review = job.recipient, job.review

            def name(user: str, team: str = recipient.team_id) -> str:
                return names.get((team, user)) or user

            picture = None
            if recipient.key in chart_keys:
                picture = drawn.get(review.key) or self._draw(review, name)
                drawn[review.key] = picture
            message = weekly_review(review, names=name, picture=PICTURE_FOLLOWS if picture else None)
            if show is not None and (dry_run or recipient.key in text_keys):
                show(recipient, message, picture)
            if dry_run:
                report.printed += 1
                if picture is not None:
                    report.pictures.append(recipient.user_id)
                continue
            channel = None
            if recipient.key in text_keys:
                channel = self._post(courier, recipient, message, owner, report)
            if picture is not None:
                self._upload(recipient, picture, channel, owner, report)
        return report

    def _draw(self, review: WeeklyReview, name: Callable[[str], str]) -> Picture:
        png = review_png(review.week, review.curve, name=name)
        alt = alt_text(review.week, review.curve, name=name)
        return Picture(png, alt, f"weekly-review-{review.team_id}-{review.today:%Y-%m-%d}.png")

    def _post(
        self,
        courier: Courier,
        recipient: Recipient,
        message: Message,
        owner: str,
        report: ReviewReport,
    ) -> str | None:
        """The text, through the outbox like every message Baton owes; the DM's channel when it went."""
        try:
            queued = self.queue(recipient, Kind.REVIEW, message, owner)
        except Exception:  # one manager's row must not stop everyone else's review
            log.exception("Couldn't queue the review for %s", recipient.user_id)
            report.failed.append(f"{recipient.user_id} (review)")
            return None
        if queued is None:
            return None  # another run took this claim over: it is that run's to send
        outcome = courier.send([queued]).outcomes.get(queued)
        if outcome is None or outcome.status != "sent":
            log.warning("The review for %s isn't delivered yet; the outbox tries again", recipient.user_id)
            report.failed.append(f"{recipient.user_id} (review)")
            return None
        report.sent.append(recipient.user_id)
        return outcome.channel

    def _upload(
        self, recipient: Recipient, picture: Picture, channel: str | None, owner: str, report: ReviewReport
    ) -> None:
        """files_upload_v2: files.getUploadURLExternal, the bytes to that URL, files.completeUploadExternal."""
        if self.pacer is not None:
            self.pacer.wait()
        try:
            if channel is None:  # the text went out on an earlier tick, or is still owed: the DM anyway
                channel = str(self.client.conversations_open(users=recipient.user_id)["channel"]["id"])
            response = self.client.files_upload_v2(
                channel=channel,
                file=picture.png,
                filename=picture.filename,
                title="Last week, and the attempt curve",
                alt_txt=picture.alt,
            )
        except Exception as error:  # recorded, and tried again on a later tick
            code = _code(error)
            log.warning("Couldn't upload the review's picture for %s: %s", recipient.user_id, code)
            self._done(recipient, owner, error=code)
            report.failed.append(f"{recipient.user_id} (picture)")
            return
        file_id = str((response.get("file") or {}).get("id") or "")
        self._done(recipient, owner, channel=channel, file_id=file_id[:32] or None)
        report.pictures.append(recipient.user_id)

    def _done(self, recipient: Recipient, owner: str, **outcome: str | None) -> None:
        with self.deps.bookkeeping() as session:
            review_records.picture_done(session, recipient, owner=owner, now=self.deps.clock(), **outcome)


def _code(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)[:200]
    return type(error).__name__


def save_picture(picture: Picture, folder: Path) -> Path:
    """For a dry run: the PNG beside the printed review."""
    path = folder / picture.filename
    path.write_bytes(picture.png)
    return path
