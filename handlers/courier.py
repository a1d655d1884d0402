"""Sending what the outbox owes, after the commit: once, recorded, retried, and never twice.

Handlers write owed messages with `post`, `update` and `reply` (handlers/outbox.py) inside the
transaction of the change that owes them, and hand the ids to `Courier.send` once it has committed;
the clock's `sweep` retries whatever is still owed. Every post carries its outbox id in Slack
message metadata: when Slack's answer is lost (the connection dropped after posting, an answer
after the timeout, a sender killed mid-call), the sender reads the conversation back
(handlers/posts_in_doubt.py: `conversations.history` with `include_all_metadata`, only around the
post, within Slack's history limits) and records the message it finds instead of posting it
again. Rate limits are the outbox's: a 429 puts the row back, due when Slack said, and no sender
sleeps holding a row (see `_waits_for_nobody`).
"""

import copy
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy.orm import Session

from coaching import outbox
from coaching.outbox import ANSWERS, REPLACE, UPDATE, Owed
from handlers.deps import Deps
from handlers.outbox import kept_taken
from handlers.outbox_leases import HELD
from handlers.outcomes import LOST, Outcome, reached_nobody, refused
from handlers.posts_in_doubt import EVENT_TYPE, last_looks, look
from handlers.response_urls import Opened, by_response_url, open_connection
from handlers.say import Pacer
from handlers.workspaces import ClientFor, NotInstalled

log = logging.getLogger(__name__)
RATE_LIMIT_WAITS = 3  # a patient sender waits out this many 429s on one message, then puts it back
LONGEST_HELD_WAIT = 120.0  # seconds; a longer Retry-After puts the row back instead of holding it


@dataclass
class Sweep:
    sent: int = 0
    waiting: int = 0  # to be tried again later (a passing failure, or an outcome to settle)
    failed: int = 0
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.waiting} to try again, {self.failed} failed for good"


class Courier:
    """One sender: takes owed rows (with a lease, under its own token), sends, records the outcome."""

    def __init__(
        self,
        deps: Deps,
        client: WebClient,
        *,
        pacer: Pacer | None = None,
        patient: bool | None = None,
        per_team: ClientFor | None = None,
    ) -> None:
        """`patient`: wait out a short Retry-After holding the row (its lease renewed to cover the
        wait), as a paced run (digests, reviews) wants; by default only paced senders are patient.
        Anyone else puts a rate-limited row back, due when Slack said, and moves on.
        `per_team`: each row is sent with its own workspace's client (a sweep of every
        workspace's rows); without it, with `client` (a request's, or one workspace's run)."""
        self.deps = deps
        self.per_team = per_team
        self._use(client)
        self.pacer = pacer
        self.patient = pacer is not None if patient is None else patient
        self.owner = outbox.new_owner()
        self.owners: dict[int, str] = {}  # rows written already taken, under their own tokens
        self.answering: set[int] = set()  # answers recorded as sent as they began (`outbox.answering`)
        self.opened: dict[int, Opened | None] = {}  # answers' response_url connections, opened first
        # Posts written taken here, read ahead in the transaction that took an answer sent before
        # them (None: not as written any more): one transaction fewer a command that owes both.
        self.read_ahead: dict[int, Owed | None] = {}

    def send(self, ids: Iterable[int]) -> Sweep:
        """Send these rows now (right after the commit that wrote them)."""
        report = Sweep()
        queue = list(ids)
        while queue:
            outbox_id = queue.pop(0)
            outcome, more = self._deliver(outbox_id, queue)
            queue.extend(more)
            if outcome is None:
                continue
            report.outcomes[outbox_id] = outcome
            if outcome.status == "sent":
                report.sent += 1
            elif outcome.status == "failed":
                report.failed += 1
            else:
                report.waiting += 1
        return report

    def sweep(
        self, limit: int = 500, *, settled: timedelta = timedelta(0), team_id: str | None = None
    ) -> Sweep:
        """Everything still owed whose time has come: the clock's job, and a restarted process's.
        `settled`: only what has been due this long (a post owed a moment ago is being sent by
        the listener that owed it, which wants to know how it went). `team_id`: one workspace's."""
        with self.deps.db.readers.begin() as session:
            ids = outbox.due(session, now=self.deps.clock() - settled, limit=limit, team_id=team_id)
        return self.send(ids)

    def _use(self, client: WebClient) -> None:
        self.client = _waits_for_nobody(client)
        self.looks = last_looks(client)  # this app's history calls, by channel

    # ---- one message ---------------------------------------------------------------------------
    def _deliver(self, outbox_id: int, after: Sequence[int] = ()) -> tuple[Outcome | None, list[int]]:
        # Held before it is taken: from the take on, this process's heartbeat keeps it.
        taken = kept_taken().get(outbox_id)
        HELD.hold(self.deps, outbox_id, taken.owner if taken else self.owner)
        if taken is not None and taken.answer and taken.response_url:
            # An answer is recorded as sent as its attempt begins: its connection is opened
            # before that, so between the record and the answer leaving there is as little as can be.
            self.opened[outbox_id] = open_connection(taken.response_url)
        try:
            owed = self._take(outbox_id, after)
            if owed is None:
                return None, []  # sent already, not due yet, or another sender has it
            return self._send_held(owed)
        finally:
            HELD.let_go(outbox_id)
            opened = self.opened.pop(outbox_id, None)
            if opened is not None:
                opened.connection.close()

    def _send_held(self, owed: Owed) -> tuple[Outcome, list[int]]:
        outcome = self._try(owed)
        if owed.id in self.answering:
            if outcome.status == "sent":
                if outcome.error:  # very likely sent, and why not certainly: kept for whoever looks
                    with self.deps.bookkeeping() as session:
                        outbox.note(session, owed, owner=self._owner_of(owed), note=outcome.error)
                return outcome, []  # recorded as sent as it began
            with self.deps.bookkeeping() as session:  # it didn't go: the sender's again, to record how
                if not outbox.reopen(session, owed, owner=self._owner_of(owed)):
                    return outcome, []
            self.answering.discard(owed.id)
        waits = 0
        while (
            self.patient
            and outcome.retry_after is not None
            and outcome.retry_after <= LONGEST_HELD_WAIT
            and waits < RATE_LIMIT_WAITS
        ):
            wait = outcome.retry_after + random.random() / 4  # jitter: paced senders don't retry in lockstep
            with self.deps.bookkeeping() as session:
                held = outbox.hold(
                    session, owed, owner=self._owner_of(owed), now=self.deps.clock(), longer=wait
                )
            if not held:
                break  # no longer this sender's row: its outcome is for whoever has it
            HELD.hold(self.deps, owed.id, self._owner_of(owed))  # held afresh: a wait is no vanished sender
            self.deps.sleep(wait)
            waits += 1
            outcome = self._try(owed)
        try:
            return outcome, self._record(owed, outcome)
        except Exception:
            # The message went (or not) but the database didn't hear of it. The row stays
            # `sending`; when its lease runs out the next sweep looks for it in Slack first.
            log.exception("Couldn't record the outcome of outbox message %s", owed.id)
            return outcome, []

    def _take(self, outbox_id: int, after: Sequence[int] = ()) -> Owed | None:
        """`after`: the rows to send after this one (posts written taken here are read ahead)."""
        taken = kept_taken().pop(outbox_id, None)
        if taken is not None and taken.answer:  # written taken here: taken and recorded in one write
            with self.deps.bookkeeping() as session:
                owed = outbox.answering(session, outbox_id, owner=taken.owner, now=self.deps.clock())
                self._read_ahead(session, after)
            if owed is not None:
                self.owners[owed.id] = taken.owner
                self.answering.add(owed.id)
                return owed
        elif taken is not None:  # a post written taken here: a read suffices
            if outbox_id in self.read_ahead:
                owed = self.read_ahead.pop(outbox_id)
            else:
                with self.deps.db.readers.begin() as session:
                    owed = outbox.taken_here(session, outbox_id, owner=taken.owner, now=self.deps.clock())
            if owed is not None:
                self.owners[owed.id] = taken.owner
                return owed
        with self.deps.bookkeeping() as session:
            return outbox.take(session, outbox_id, owner=self.owner, now=self.deps.clock())

    def _read_ahead(self, session: Session, after: Sequence[int]) -> None:
        """The posts written taken here among `after`, read in `session` (an answer's take, just
        before): the read each would make, a transaction sooner (what it says is compared with
        the row again when its outcome is recorded, see `outbox.sent`)."""
        here = kept_taken()
        for outbox_id in after:
            taken = here.get(outbox_id)
            if taken is not None and not taken.answer and outbox_id not in self.read_ahead:
                now = self.deps.clock()
                self.read_ahead[outbox_id] = outbox.taken_here(session, outbox_id, owner=taken.owner, now=now)

    def _owner_of(self, owed: Owed) -> str:
        return self.owners.get(owed.id, self.owner)

    def _try(self, owed: Owed) -> Outcome:
        if self.per_team is not None:
            try:
                self._use(self.per_team(owed.team_id))
            except NotInstalled:
                return Outcome("failed", error="not_installed")
            except Exception as error:  # its token couldn't be refreshed just now: later
                log.warning("No Slack client for workspace %s (%s); trying again later", owed.team_id, error)
                return Outcome("retry", error=type(error).__name__)
        try:
            return self._attempt(owed)
        except Exception as error:  # a bug in building the call: keep it owed, and say so
            log.exception("Sending outbox message %s failed", owed.id)
            return Outcome("retry", error=type(error).__name__)

    def _record(self, owed: Owed, outcome: Outcome) -> list[int]:
        now = self.deps.clock()
        with self.deps.bookkeeping() as session:
            if outcome.status == "sent":
                return outbox.sent(
                    session,
                    owed,
                    owner=self._owner_of(owed),
                    now=now,
                    channel=outcome.channel or "",
                    ts=outcome.ts,
                    note=outcome.error or None,
                    shows_old=outcome.shows_old,
                )
            elif outcome.status == "unknown":
                dead = outbox.unknown(
                    session,
                    owed,
                    owner=self._owner_of(owed),
                    now=now,
                    error=outcome.error,
                    posted_at=outcome.posted_at,
                    looked_before=outcome.looked_before,
                    retry_after=outcome.retry_after,
                )
                if dead:
                    log.error(
                        "Gave up on outbox message %s to %s after %s attempts (%s): it may or may not "
                        "be in Slack; it is kept as a dead letter",
                        owed.id,
                        owed.channel,
                        owed.attempts,
                        outcome.error,
                    )
            else:
                return outbox.failed(
                    session,
                    owed,
                    owner=self._owner_of(owed),
                    now=now,
                    error=outcome.error,
                    retry=outcome.status == "retry",
                    retry_after=outcome.retry_after,
                )
        return []

    def _attempt(self, owed: Owed) -> Outcome:
        if owed.method == UPDATE:
            return self._update(owed)
        if owed.method in ANSWERS:
            if owed.cut_short and owed.began_in_place():
                # Its sender stopped mid-answer, perhaps after Slack showed it, and an answer in
                # place can't be looked for: one answer possibly lost beats the same answer twice.
                log.warning("Outbox answer %s was cut short by its sender stopping; not sent again", owed.id)
                return Outcome("sent", owed.reply_in, None, error="uncertain: its sender stopped")
            if not owed.uncertain:  # (in doubt otherwise only as a DM: looked for before posting)
                answered = self._answer_in_place(owed)
                if answered is not None:
                    return answered
        return self._post(owed)

    def _update(self, owed: Owed, channel: str | None = None) -> Outcome:
        try:
            self.client.chat_update(channel=channel or owed.channel, ts=str(owed.ts), **owed.payload)
        except SlackApiError as error:
            return refused(error)
        except LOST as error:  # changing a message twice is harmless: just try again
            return Outcome("retry", error=type(error).__name__)
        return Outcome("sent", channel or owed.channel, owed.ts)

    def _answer_in_place(self, owed: Owed) -> Outcome | None:
        """The answer where the person was working, while Slack still takes one: through the
        response_url (in place of the message clicked, for `replace`), else by changing that
        message (`replace`, a message Baton posted), else an ephemeral. None: a DM, then."""
        in_place = owed.still_in_place(self.deps.clock())
        if in_place and owed.response_url:
            answered = by_response_url(owed, self.opened.pop(owed.id, None))
            if answered is not None:
                return answered
        if owed.method == REPLACE and owed.ts and owed.reply_in:
            changed = self._update(owed, owed.reply_in)  # chat.update never expires
            if changed.status == "sent":
                return changed
            log.info("chat.update of the message clicked failed (%s); answering beside it", changed.error)
        if in_place and owed.reply_in:
            try:
                self.client.chat_postEphemeral(channel=owed.reply_in, user=owed.channel, **owed.payload)
                return Outcome("sent", owed.reply_in, None)
            except (SlackApiError, *LOST) as error:
                log.info("chat.postEphemeral failed (%s); sending a DM", _code(error))
        return None

    def _post(self, owed: Owed) -> Outcome:
        if owed.uncertain:
            looked = look(owed, client=self.client, looks=self.looks, clock=self.deps.clock)
            if looked is not None:
                return looked
        if self.pacer is not None:
            self.pacer.wait()
        posted_at = self.deps.clock()
        try:
            response = self.client.chat_postMessage(
                channel=owed.channel,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"outbox_id": owed.id}},
                **owed.payload,
            )
        except SlackApiError as error:
            return refused(error)
        except LOST as error:
            if reached_nobody(error):
                return Outcome("retry", error="ConnectionRefusedError")
            return Outcome("unknown", error=type(error).__name__, posted_at=posted_at)
        return Outcome("sent", str(response["channel"]), str(response["ts"]))


def _waits_for_nobody(client: WebClient) -> WebClient:
    """The client without its 429 handler: the outbox owns rate limits. A sender that slept out
    Retry-After inside a leased send could outlive its lease (two 70-second waits outlast the
    2-minute lease), and another sender would take the row, find nothing in Slack yet and post it;
    then the sleeper would post it again. A 429 instead puts the row back, due after Retry-After."""
    own = copy.copy(client)
    own.retry_handlers = [
        handler for handler in client.retry_handlers if not isinstance(handler, RateLimitErrorRetryHandler)
    ]
    return own


def _code(error: Any) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__
