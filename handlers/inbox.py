"""The inbox at the front door: what Slack has had acknowledged is kept, done once, and resumed.

A global Bolt middleware writes each command, click, form submission and event to the inbox (one
short committed transaction of its own, in the request thread) before the listener acknowledges
it; a replay of the same signed body, or Slack's retry of an event, is acknowledged without
being done again. The listener's work (handlers/errors.py `guarded`) takes the row, and marks it
done in the work's own transaction (handlers/deps.py `acting`): a SIGKILL before that commit
leaves the row undone, and `resume` runs it again after a restart, so the rep still gets what
they asked for, and the answer they were owed.
"""

import contextvars
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from coaching import inbox
from coaching.outbox import new_owner
from handlers.blocks.base import too_busy_to_keep
from store.db import Database, TooSlow

log = logging.getLogger(__name__)
RECEIPT = "baton_inbox"  # the Bolt context key the middleware leaves for the listener
RESUMING = "baton_resuming"  # set on a request `resume` runs again: it is in the inbox already
DURABLE = frozenset({"block_actions", "view_submission", "event_callback"})


class Superseded(Exception):
    """Another worker took this request over (this one was presumed dead): its work must not commit."""


class Receipt:
    """One kept request, as the listener working on it sees it."""

    def __init__(
        self, inbox_id: int, db: Database, clock: Callable[[], datetime], *, received_at: datetime
    ) -> None:
        self.inbox_id = inbox_id
        self.received_at = received_at  # when Slack sent it: a response_url lives 30 minutes from here
        self.db = db
        self.clock = clock
        self.owner = new_owner()
        self.marked = False  # the work's transaction marked it done
        self.committed = False  # ...and that transaction committed: the work is saved

    def __deepcopy__(self, memo: dict[int, object]) -> "Receipt":
        # Bolt deep-copies the context for lazy listeners; a receipt holds the engine, keep it whole.
        return self

    def take(self) -> bool:
        """Start work on it, unless it is done or another live worker has it."""
        with self.db.sessions.begin() as session:
            return inbox.take(session, self.inbox_id, owner=self.owner, now=self.clock())

    def mark(self, session: Session) -> None:
        """Mark it done inside the work's transaction: the work and the mark commit together."""
        if self.marked:
            return
        if not inbox.finish(session, self.inbox_id, owner=self.owner, now=self.clock()):
            raise Superseded(f"inbox {self.inbox_id} was taken over")
        self.marked = True

    def close(self, outcome: str) -> None:
        """After the listener: done, if its work had no transaction to mark it in (a read, a refusal)."""
        if self.marked:
            return
        try:
            with self.db.sessions.begin() as session:
                inbox.finish(session, self.inbox_id, owner=self.owner, now=self.clock(), outcome=outcome)
        except Exception:  # it stays undone, and is run again by `resume`: better than lost
            log.exception("Couldn't close inbox %s", self.inbox_id)


CURRENT: contextvars.ContextVar[Receipt | None] = contextvars.ContextVar("baton_receipt", default=None)


def mark_current(session: Session) -> bool:
    """Called by every write transaction on a listener's behalf: the first one carries the mark."""
    receipt = CURRENT.get()
    if receipt is None or receipt.marked:
        return False
    receipt.mark(session)
    return True


def asked_at() -> datetime | None:
    """When the request being worked on arrived (its reply's response_url is that old), if any."""
    receipt = CURRENT.get()
    return receipt.received_at if receipt is not None else None


def committed_current() -> None:
    receipt = CURRENT.get()
    if receipt is not None and receipt.marked:
        receipt.committed = True


def durable_kind(body: dict[str, Any]) -> str | None:
    """Requests kept in the inbox. Options requests are answered in the acknowledgement itself,
    and nothing is lost with them; a closed modal has nothing to do."""
    if body.get("command"):
        return "command"
    kind = body.get("type")
    return str(kind) if kind in DURABLE else None


def not_kept(body: dict[str, Any]) -> BoltResponse:
    """The answer when the request couldn't be kept before Slack's deadline: nothing is done, and
    the person knows. A command is answered with what to send again; anything else gets an error
    status, which Slack shows as a failure (a form stays open with what was typed in it) and
    which makes Slack send an event again later."""
    if body.get("command"):
        message = too_busy_to_keep(str(body["command"]), body.get("text"))
        return BoltResponse(
            status=200,
            body=json.dumps({**message.payload(), "response_type": "ephemeral"}),
            headers={"content-type": ["application/json"]},
        )
    return BoltResponse(status=503, body="")


class Door:
    """The middleware and the resumer, for one process."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def register(self, app: App) -> None:
        app.middleware(self.keep)

    def keep(self, req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        body = req.body
        kind = durable_kind(body)
        if kind is None or not req.context.team_id:
            return next()  # nothing to keep (a request naming no team is refused further on)
        resuming = req.context.get(RESUMING)
        if resuming is not None:
            inbox_id, received_at = resuming
            req.context[RECEIPT] = Receipt(int(inbox_id), self.db, self.clock, received_at=received_at)
            return next()
        raw = req.raw_body or json.dumps(body, sort_keys=True)
        key = inbox.request_key(raw, body.get("event_id") if kind == "event_callback" else None)
        user = body.get("user")
        user_id = str(user.get("id") if isinstance(user, dict) else body.get("user_id") or "")
        now = self.clock()
        # Urgent: this write stands between Slack and its acknowledgement (store/db.py Writers),
        # and has a deadline well inside Slack's 3 seconds.
        try:
            with self.db.sessions.begin(urgent=True) as session:
                inbox_id = inbox.receive(
                    session,
                    key=key,
                    team_id=str(req.context.team_id),
                    user_id=user_id,
                    kind=kind,
                    body=json.dumps(body),
                    now=now,
                )
        except (TooSlow, OperationalError, PoolTimeout) as error:
            log.warning("Couldn't keep a %s in time (%s): answered without doing it", kind, error)
            return not_kept(body)
        if inbox_id is None:
            retry = req.headers.get("x-slack-retry-num")
            log.info("A %s Baton already has (%s): acknowledged, not done again", kind, retry or "a replay")
            return BoltResponse(status=200, body="")
        req.context[RECEIPT] = Receipt(inbox_id, self.db, self.clock, received_at=now)
        return next()

    def resume(self, app: App) -> int:
        """Run again what a dead process acknowledged but never finished. Safe in every process at
        once: whoever takes a row first does it, the others skip it."""
        with self.db.sessions.begin() as session:
            pending = inbox.unfinished(session, now=self.clock())
        for inbox_id, body, received_at in pending:
            log.info("Resuming inbox %s, acknowledged before a restart", inbox_id)
            request = BoltRequest(
                body=json.loads(body),
                context={RESUMING: (inbox_id, received_at)},
                # The JSON Bolt parsed when it arrived (signature checked then): Socket Mode's
                # form of a request, which Bolt copies for lazy listeners from the parsed body.
                mode="socket_mode",
            )
            try:
                app.dispatch(request)
            except Exception:
                log.exception("Resuming inbox %s failed", inbox_id)
        return len(pending)
