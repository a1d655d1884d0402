"""Sending what the outbox owes, after the commit: once, recorded, retried, and never twice.

Handlers write owed messages with `post`, `update` and `reply` inside the transaction of the change
that owes them, and hand the ids to `Courier.send` once it has committed; the clock's `sweep`
retries whatever is still owed. Every post carries its outbox id in Slack message metadata: when
Slack's answer is lost (the connection dropped after posting, an answer after the timeout, a
sender killed mid-call), the sender reads the conversation back (`conversations.history` with
`include_all_metadata`) and records the message it finds instead of posting it again.
"""

import http.client
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from coaching import outbox
from coaching.outbox import POST, REPLY, UPDATE, Owed
from handlers.blocks.base import Message
from handlers.deps import Deps
from handlers.inbox import asked_at
from handlers.say import Pacer

log = logging.getLogger(__name__)
EVENT_TYPE = "baton_outbox"  # the metadata event type that marks Baton's own posts
HISTORY_PAGE = 200  # how far back a lost post is looked for: it was posted moments before
# Slack's errors that pass: the same call later may well work. Any other error is for good.
PASSING = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
LOST = (OSError, http.client.HTTPException)  # urllib: no answer, or half of one


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
) -> int:
    """Owe a post (a DM when `channel` is a person). `fallback`: where it goes if `channel` refuses it."""
    return outbox.owe(
        session,
        team_id=team_id,
        method=POST,
        channel=channel,
        payload=message.payload(),
        now=deps.clock(),
        subject=subject,
        subject_id=subject_id,
        fallback=tuple(fallback),
    )


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
    """Owe a private answer: through the response_url while it is valid, else an ephemeral, else a DM."""
    return outbox.owe(
        session,
        team_id=team_id,
        method=REPLY,
        channel=user_id,
        response_url=response_url,
        reply_in=channel_id,
        payload=message.payload(),
        now=deps.clock(),
        since=asked_at(),
    )


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed | unknown
    channel: str | None = None
    ts: str | None = None
    error: str = ""
    retry_after: float | None = None


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

    def __init__(self, deps: Deps, client: WebClient, *, pacer: Pacer | None = None) -> None:
        self.deps = deps
        self.client = client
        self.pacer = pacer
        self.owner = outbox.new_owner()

    def send(self, ids: Iterable[int]) -> Sweep:
        """Send these rows now (right after the commit that wrote them)."""
        report = Sweep()
        queue = list(ids)
        while queue:
            outbox_id = queue.pop(0)
            outcome, more = self._deliver(outbox_id)
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

    def sweep(self, limit: int = 500) -> Sweep:
        """Everything still owed whose time has come: the clock's job, and a restarted process's."""
        with self.deps.db.readers.begin() as session:
            ids = outbox.due(session, now=self.deps.clock(), limit=limit)
        return self.send(ids)

    # ---- one message ---------------------------------------------------------------------------
    def _deliver(self, outbox_id: int) -> tuple[Outcome | None, list[int]]:
        with self.deps.db.sessions.begin() as session:
            owed = outbox.take(session, outbox_id, owner=self.owner, now=self.deps.clock())
        if owed is None:
            return None, []  # sent already, not due yet, or another sender has it
        try:
            outcome = self._attempt(owed)
        except Exception as error:  # a bug in building the call: keep it owed, and say so
            log.exception("Sending outbox message %s failed", owed.id)
            outcome = Outcome("retry", error=type(error).__name__)
        try:
            return outcome, self._record(owed, outcome)
        except Exception:
            # The message went (or not) but the database didn't hear of it. The row stays
            # `sending`; when its lease runs out the next sweep looks for it in Slack first.
            log.exception("Couldn't record the outcome of outbox message %s", owed.id)
            return outcome, []

    def _record(self, owed: Owed, outcome: Outcome) -> list[int]:
        now = self.deps.clock()
        with self.deps.db.sessions.begin() as session:
            if outcome.status == "sent":
                outbox.sent(
                    session, owed, owner=self.owner, now=now, channel=outcome.channel or "", ts=outcome.ts
                )
            elif outcome.status == "unknown":
                outbox.unknown(session, owed, owner=self.owner, now=now, error=outcome.error)
            else:
                return outbox.failed(
                    session,
                    owed,
                    owner=self.owner,
                    now=now,
                    error=outcome.error,
                    retry=outcome.status == "retry",
                    retry_after=outcome.retry_after,
                )
        return []

    def _attempt(self, owed: Owed) -> Outcome:
        if owed.method == UPDATE:
            return self._update(owed)
        if owed.method == REPLY:
            answered = self._reply_in_place(owed)
            if answered is not None:
                return answered
        return self._post(owed)

    def _update(self, owed: Owed) -> Outcome:
        try:
            self.client.chat_update(channel=owed.channel, ts=str(owed.ts), **owed.payload)
        except SlackApiError as error:
            return _refused(error)
        except LOST as error:  # changing a message twice is harmless: just try again
            return Outcome("retry", error=type(error).__name__)
        return Outcome("sent", owed.channel, owed.ts)

    def _reply_in_place(self, owed: Owed) -> Outcome | None:
        """The ephemeral answer where the person was working, while Slack still takes one."""
        if not owed.still_in_place(self.deps.clock()):
            return None  # too late for an ephemeral: a DM
        if owed.response_url:
            try:
                response = WebhookClient(owed.response_url, timeout=10).send_dict(
                    {**owed.payload, "response_type": "ephemeral", "replace_original": False}
                )
                if response.status_code == 200:
                    return Outcome("sent", owed.reply_in, None)
                log.info("response_url answered %s; trying chat.postEphemeral", response.status_code)
            except LOST as error:
                log.info("response_url failed (%s); trying chat.postEphemeral", type(error).__name__)
        if owed.reply_in:
            try:
                self.client.chat_postEphemeral(channel=owed.reply_in, user=owed.channel, **owed.payload)
                return Outcome("sent", owed.reply_in, None)
            except (SlackApiError, *LOST) as error:
                log.info("chat.postEphemeral failed (%s); sending a DM", _code(error))
        return None

    def _post(self, owed: Owed) -> Outcome:
        if owed.uncertain:
            try:
                found = self._find(owed)
            except (SlackApiError, *LOST) as error:
                return Outcome("unknown", error=f"looking for it: {_code(error)}")
            if found is not None:
                log.info("Outbox message %s was posted after all (%s)", owed.id, found[1])
                return Outcome("sent", *found)
        if self.pacer is not None:
            self.pacer.wait()
        try:
            response = self.client.chat_postMessage(
                channel=owed.channel,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"outbox_id": owed.id}},
                **owed.payload,
            )
        except SlackApiError as error:
            return _refused(error)
        except ConnectionRefusedError as error:
            return Outcome("retry", error=type(error).__name__)  # nothing reached Slack
        except LOST as error:
            if isinstance(getattr(error, "reason", None), ConnectionRefusedError):
                return Outcome("retry", error="ConnectionRefusedError")
            return Outcome("unknown", error=type(error).__name__)
        return Outcome("sent", str(response["channel"]), str(response["ts"]))

    def _find(self, owed: Owed) -> tuple[str, str] | None:
        """The post, if Slack has it: found by the outbox id in its metadata."""
        channel = owed.channel
        if channel[:1] in ("U", "W"):
            channel = str(self.client.conversations_open(users=channel)["channel"]["id"])
        history = self.client.conversations_history(
            channel=channel, include_all_metadata=True, limit=HISTORY_PAGE
        )
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == EVENT_TYPE and str(payload.get("outbox_id")) == str(owed.id):
                return channel, str(message["ts"])
        return None


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


def _code(error: Any) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__
