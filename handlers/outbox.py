"""Sending what the outbox owes, after the commit: once, recorded, retried, and never twice.

Handlers write owed messages with `post`, `update` and `reply` inside the transaction of the change
that owes them, and hand the ids to `Courier.send` once it has committed; the clock's `sweep`
retries whatever is still owed. Every post carries its outbox id in Slack message metadata: when
Slack's answer is lost (the connection dropped after posting, an answer after the timeout, a
sender killed mid-call), the sender reads the conversation back (`conversations.history` with
`include_all_metadata`, only around the post, within Slack's history limits) and records the
message it finds instead of posting it again. Rate limits are the outbox's: a 429 puts the row
back, due when Slack said, and no sender sleeps holding a row (see `_waits_for_nobody`).
"""

import copy
import http.client
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.version import __version__ as SLACK_SDK_VERSION
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from coaching import outbox
from coaching.leases import HEARTBEAT
from coaching.outbox import ANSWERS, POST, REPLACE, REPLY, UPDATE, Owed
from handlers.blocks.base import Message
from handlers.deps import Deps
from handlers.inbox import asked_at
from handlers.say import Pacer
from handlers.workspaces import ClientFor, NotInstalled

log = logging.getLogger(__name__)
EVENT_TYPE = "baton_outbox"  # the metadata event type that marks Baton's own posts
# Slack serves conversations.history to apps outside the Marketplace at about one call a minute
# and at most 15 messages a call: a lost post is looked for a page a minute, only around its post.
HISTORY_PAGE = 15
HISTORY_INTERVAL = timedelta(seconds=60)
CLOCK_SKEW = timedelta(seconds=30)  # Slack's clock and ours: the window around a post is this wider
_last_looks: "WeakKeyDictionary[WebClient, dict[str, datetime]]" = WeakKeyDictionary()
# Slack's errors that pass: the same call later may well work. Any other error is for good.
PASSING = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "token_expired",  # a rotating token ran out between being read and used: refreshed next time
    }
)
LOST = (OSError, http.client.HTTPException)  # urllib: no answer, or half of one
RATE_LIMIT_WAITS = 3  # a patient sender waits out this many 429s on one message, then puts it back
USER_AGENT = f"Baton slack_sdk/{SLACK_SDK_VERSION}"
LONGEST_HELD_WAIT = 120.0  # seconds; a longer Retry-After puts the row back instead of holding it


def post(
    session: Session,
    team_id: str,
    channel: str,
    message: Message,
    *,
    deps: Deps,
    subject: str | None = None,
    subject_id: int | None = None,
    fallback: Iterable[str] = (),
    sending_now: bool = False,
) -> int:
    """Owe a post (a DM when `channel` is a person). `fallback`: where it goes if `channel` refuses it.
    `sending_now`: this thread sends it right after the commit (`Courier.send`), so it is written
    already taken, as a reply is (see `reply`)."""
    owner = outbox.new_owner() if sending_now else None
    outbox_id = outbox.owe(
        session,
        team_id=team_id,
        method=POST,
        channel=channel,
        payload=message.payload(),
        now=deps.clock(),
        subject=subject,
        subject_id=subject_id,
        fallback=tuple(fallback),
        taken_by=owner,
    )
    if owner is not None:
        _keep_taken(deps, outbox_id, Taken(owner))
    return outbox_id


def update(session: Session, team_id: str, channel: str, ts: str, message: Message, *, deps: Deps) -> int:
    """Owe a change to a message Baton posted (chat.update never expires, unlike a response_url)."""
    return outbox.owe(
        session,
        team_id=team_id,
        method=UPDATE,
        channel=channel,
        ts=ts,
        payload=message.payload(),
        now=deps.clock(),
    )


def reply(
    session: Session,
    team_id: str,
    user_id: str,
    message: Message,
    *,
    deps: Deps,
    response_url: str | None,
    channel_id: str | None,
) -> int:
    """Owe a private answer: through the response_url while it is valid, else an ephemeral, else a DM.

    The row is written already taken (by a sender token this thread keeps): the Courier that
    sends it right after the commit takes it and records it in one write as it begins. If nobody
    sends it (the process died), its lease runs out and a sweep takes it over, certainly unsent."""
    return _answer(
        session,
        team_id,
        user_id,
        message,
        deps=deps,
        method=REPLY,
        response_url=response_url,
        channel_id=channel_id,
    )


def replace(
    session: Session,
    team_id: str,
    user_id: str,
    message: Message,
    *,
    deps: Deps,
    response_url: str | None,
    channel_id: str | None,
    ts: str | None,
) -> int:
    """Owe an answer shown in place of the message clicked (a digest shown again, a card decided):
    through the response_url with replace_original while it is valid, else chat.update of the
    message (`channel_id`, `ts`: a message Baton posted, not an ephemeral one), else as a reply."""
    return _answer(
        session,
        team_id,
        user_id,
        message,
        deps=deps,
        method=REPLACE,
        response_url=response_url,
        channel_id=channel_id,
        ts=ts,
    )


def _answer(
    session: Session,
    team_id: str,
    user_id: str,
    message: Message,
    *,
    deps: Deps,
    method: str,
    response_url: str | None,
    channel_id: str | None,
    ts: str | None = None,
) -> int:
    owner = outbox.new_owner()
    outbox_id = outbox.owe(
        session,
        team_id=team_id,
        method=method,
        channel=user_id,
        ts=ts,
        response_url=response_url,
        reply_in=channel_id,
        payload=message.payload(),
        now=deps.clock(),
        since=asked_at(),
        taken_by=owner,
    )
    _keep_taken(deps, outbox_id, Taken(owner, answer=True, response_url=response_url))
    return outbox_id


_local = threading.local()


@dataclass(frozen=True)
class Taken:
    """A row this thread wrote already taken, to send right after the commit."""

    owner: str  # the sender token that holds it
    answer: bool = False  # a reply or a replacement: recorded as sent as its attempt begins
    response_url: str | None = None  # where the answer goes first


def _keep_taken(deps: Deps, outbox_id: int, taken: Taken) -> None:
    kept = _taken_here()
    if len(kept) > 1000:  # left by work that rolled back after owing: never sent, so forget them
        kept.clear()
    kept[outbox_id] = taken
    HELD.hold(deps, outbox_id, taken.owner)  # leased until its sender takes it, right after the commit


def _taken_here() -> dict[int, Taken]:
    """Rows this thread wrote already taken, by id."""
    taken: dict[int, Taken] | None = getattr(_local, "taken", None)
    if taken is None:
        taken = _local.taken = {}
    return taken


class Held:
    """The outbox's heartbeat: the rows this process's senders hold, leased again once their lease
    is HEARTBEAT old (on a daemon thread of its own, in every process that sends: web, clock,
    command line) until let go. A send that takes less than that costs no renewal. A row held
    longer than FORGET (its sender vanished without letting go) is no longer renewed: its lease
    runs out and a sweep takes it over."""

    FORGET = 300.0  # seconds; far longer than a send, or than a patient sender's longest wait and a send

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id -> (owner, held since, last leased, deps)
        self._rows: dict[int, tuple[str, float, float, Deps]] = {}
        self._thread: threading.Thread | None = None

    def hold(self, deps: Deps, outbox_id: int, owner: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._rows[outbox_id] = (owner, now, now, deps)
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, name="outbox-heartbeat", daemon=True)
                self._thread.start()

    def let_go(self, outbox_id: int) -> None:
        with self._lock:
            self._rows.pop(outbox_id, None)

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._rows)

    def let_go_all(self) -> None:
        """Hold nothing any more (a process about to die, as a test plays one)."""
        with self._lock:
            self._rows.clear()

    def renew(self, *, every: float = HEARTBEAT.total_seconds()) -> int:
        """One beat: every row held whose lease is `every` seconds old, leased again from now on
        the database's clock."""
        now = time.monotonic()
        by_deps: dict[int, tuple[Deps, dict[int, str]]] = {}
        with self._lock:
            for outbox_id, (owner, since, leased, deps) in list(self._rows.items()):
                if now - since > self.FORGET:
                    del self._rows[outbox_id]
                elif now - leased >= every:
                    by_deps.setdefault(id(deps.db), (deps, {}))[1][outbox_id] = owner
                    self._rows[outbox_id] = (owner, since, now, deps)
        renewed = 0
        for deps, held in by_deps.values():
            with deps.bookkeeping() as session:
                kept = outbox.renew_held(session, held)
            renewed += len(kept)
            with self._lock:  # not renewed: sent and recorded, rolled back, or taken over; not ours
                for outbox_id in held.keys() - kept:
                    if self._rows.get(outbox_id, ("",))[0] == held[outbox_id]:
                        del self._rows[outbox_id]
        return renewed

    def _beat(self) -> None:
        while True:
            # A daemon thread's beat on the wall clock: the leases it renews are kept on the
            # database's clock, so only the spacing of renewals depends on this sleep.
            time.sleep(HEARTBEAT.total_seconds() / 2)
            try:
                self.renew()
            except Exception:  # the next beat tries again; meanwhile the leases still have seconds
                log.exception("Couldn't renew the outbox's leases")


HELD = Held()


def adopt_sending(session: Session) -> int:
    """At start-up on SQLite: what the replaced process was sending is free at once (all but
    what this process holds already)."""
    return outbox.adopt(session, keep=HELD.ids())


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed | unknown
    channel: str | None = None
    ts: str | None = None
    error: str = ""
    retry_after: float | None = None
    posted_at: datetime | None = None  # unknown: when the post in doubt was made
    looked_before: str | None = None  # unknown: the next look reads messages older than this
    shows_old: bool = False  # sent, found in Slack showing what the row said before it was revised


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
        self.looks = _last_looks.setdefault(client, {})  # this app's history calls, by channel

    # ---- one message ---------------------------------------------------------------------------
    def _deliver(self, outbox_id: int, after: Sequence[int] = ()) -> tuple[Outcome | None, list[int]]:
        # Held before it is taken: from the take on, this process's heartbeat keeps it.
        taken = _taken_here().get(outbox_id)
        HELD.hold(self.deps, outbox_id, taken.owner if taken else self.owner)
        if taken is not None and taken.answer and taken.response_url:
            # An answer is recorded as sent as its attempt begins: its connection is opened
            # before that, so between the record and the answer leaving there is as little as can be.
            self.opened[outbox_id] = _open(taken.response_url)
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
        taken = _taken_here().pop(outbox_id, None)
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
        here = _taken_here()
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
            return _refused(error)
        except LOST as error:  # changing a message twice is harmless: just try again
            return Outcome("retry", error=type(error).__name__)
        return Outcome("sent", channel or owed.channel, owed.ts)

    def _answer_in_place(self, owed: Owed) -> Outcome | None:
        """The answer where the person was working, while Slack still takes one: through the
        response_url (in place of the message clicked, for `replace`), else by changing that
        message (`replace`, a message Baton posted), else an ephemeral. None: a DM, then."""
        in_place = owed.still_in_place(self.deps.clock())
        if in_place and owed.response_url:
            answered = self._by_response_url(owed)
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

    def _by_response_url(self, owed: Owed) -> Outcome | None:
        shown = (
            {**owed.payload, "replace_original": True}
            if owed.method == REPLACE
            else {**owed.payload, "response_type": "ephemeral", "replace_original": False}
        )
        opened = self.opened.pop(owed.id, None)
        try:
            if opened is not None:
                try:
                    status = opened.post(shown)
                finally:
                    opened.connection.close()
            else:
                # No retry handlers: a connection dropped after Slack showed the answer, retried,
                # would show it twice (a response_url has no idempotency key either).
                webhook = WebhookClient(str(owed.response_url), timeout=10, retry_handlers=[])
                status = webhook.send_dict(shown).status_code
            if status == 200:
                return Outcome("sent", owed.reply_in, None)
            log.info("response_url answered %s; trying another way", status)
        except LOST as error:
            if not _reached_nobody(error):
                # The answer may well be on the rep's screen, and an ephemeral can't be looked
                # for afterwards: one answer possibly lost beats the same answer twice.
                log.warning(
                    "response_url's answer to outbox message %s was lost (%s); not sending it again",
                    owed.id,
                    type(error).__name__,
                )
                return Outcome("sent", owed.reply_in, None, error=f"uncertain: {type(error).__name__}")
            log.info("response_url refused the connection; trying another way")
        return None

    def _post(self, owed: Owed) -> Outcome:
        if owed.uncertain:
            looked = self._look(owed)
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
            return _refused(error)
        except LOST as error:
            if _reached_nobody(error):
                return Outcome("retry", error="ConnectionRefusedError")
            return Outcome("unknown", error=type(error).__name__, posted_at=posted_at)
        return Outcome("sent", str(response["channel"]), str(response["ts"]))

    # ---- a post in doubt -------------------------------------------------------------------------
    def _look(self, owed: Owed) -> Outcome | None:
        """Look for a post in doubt: its outcome if settled (found, or still to look for), None
        when Slack certainly hasn't it (every message in its window read), so it is posted now."""
        now = self.deps.clock()
        last = self.looks.get(owed.channel)
        if last is not None and last <= now < last + HISTORY_INTERVAL:  # one call a minute per channel
            wait = (last + HISTORY_INTERVAL - now).total_seconds()
            return Outcome(
                "unknown", error="waiting to look for it", retry_after=wait, looked_before=owed.looked_before
            )
        self.looks[owed.channel] = now
        try:
            channel, message, more, oldest = self._find(owed)
        except SlackApiError as error:
            refused = _refused(error)
            return Outcome(
                "unknown",
                error=f"looking for it: {refused.error}",
                retry_after=refused.retry_after,
                looked_before=owed.looked_before,
            )
        except LOST as error:
            return Outcome(
                "unknown", error=f"looking for it: {type(error).__name__}", looked_before=owed.looked_before
            )
        if message is not None:
            log.info("Outbox message %s was posted after all (%s)", owed.id, message["ts"])
            shows_old = _face(message) != _face(owed.payload)
            return Outcome("sent", channel, str(message["ts"]), shows_old=shows_old)
        if more and oldest is not None:  # a busy channel: the older part of the window next minute
            return Outcome(
                "unknown",
                error="still looking for it",
                retry_after=HISTORY_INTERVAL.total_seconds(),
                looked_before=oldest,
            )
        return None

    def _find(self, owed: Owed) -> tuple[str, dict[str, Any] | None, bool, str | None]:
        """One page of the post's window, newest first: (channel, the post if there, more older
        messages in the window, the oldest ts read). Found by the outbox id in its metadata."""
        channel = owed.channel
        if channel[:1] in ("U", "W"):
            channel = str(self.client.conversations_open(users=channel)["channel"]["id"])
        began, ended = owed.window or (owed.created_at, self.deps.clock())
        history = self.client.conversations_history(
            channel=channel,
            include_all_metadata=True,
            limit=HISTORY_PAGE,
            oldest=_slack_ts(began - CLOCK_SKEW),
            latest=owed.looked_before or _slack_ts(ended + CLOCK_SKEW),
            inclusive=False,
        )
        messages = list(history.get("messages") or [])
        for message in messages:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == EVENT_TYPE and str(payload.get("outbox_id")) == str(owed.id):
                return channel, message, False, None
        oldest = min((str(m["ts"]) for m in messages), key=float, default=None)
        return channel, None, bool(history.get("has_more")), oldest


def _face(message: dict[str, Any]) -> tuple[str, ...]:
    """What a person sees of a message: its text, and every text and button in its blocks. (Slack
    hands blocks back with details of its own added, so they aren't compared whole; a difference
    it makes up costs one chat.update showing the same thing, never a message shown wrong.)"""
    seen: list[str] = [str(message.get("text") or "")]

    def walk(part: object) -> None:
        if isinstance(part, dict):
            for key in ("text", "action_id", "value"):
                if isinstance(part.get(key), str):
                    seen.append(f"{key}:{part[key]}")
            for value in part.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(part, list):
            for item in part:
                walk(item)

    walk(message.get("blocks") or [])
    return tuple(seen)


@dataclass
class Opened:
    """A connection to a response_url's host, open before the answer is recorded as sent."""

    connection: http.client.HTTPConnection
    path: str

    def post(self, body: dict[str, Any]) -> int:
        """The answer, once, with no retry (as WebhookClient sends it): Slack's status."""
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json;charset=utf-8", "User-Agent": USER_AGENT}
        self.connection.request("POST", self.path, body=data, headers=headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


def _open(url: str) -> Opened | None:
    """A connection to the response_url's host, or None (it refused: the answer goes another way,
    as it would have, and nothing reached Slack)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=10, context=ssl.create_default_context()
        )
        if parts.scheme == "https"
        else http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    )
    try:
        connection.connect()
    except OSError as error:
        log.info(
            "Couldn't open the response_url's connection (%s); answering without it", type(error).__name__
        )
        connection.close()
        return None
    return Opened(connection, parts.path + (f"?{parts.query}" if parts.query else ""))


def _slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


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


def _refused(error: SlackApiError) -> Outcome:
    status = error.response.status_code
    code = str(error.response.get("error") or status)
    passing = status == 429 or status >= 500 or code in PASSING
    retry_after: float | None = None
    if status == 429:
        header = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
        try:
            retry_after = float(header[0] if isinstance(header, list) else header) if header else None
        except ValueError:
            retry_after = None
    return Outcome("retry" if passing else "failed", error=code, retry_after=retry_after)


def _reached_nobody(error: BaseException) -> bool:
    """A refused connection (urllib wraps it in URLError.reason): nothing reached Slack, so sending
    again is safe. Any other lost answer may have come after Slack did the work."""
    return isinstance(error, ConnectionRefusedError) or isinstance(
        getattr(error, "reason", None), ConnectionRefusedError
    )


def _code(error: Any) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__
