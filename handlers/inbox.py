"""The inbox at the front door: what Slack has had acknowledged is kept, done once, and ends.

A global Bolt middleware writes each command, click, form submission and event to the inbox (one
short committed transaction of its own, in the request thread) before the listener acknowledges
it, leased to this process; a replay of the same signed body, or Slack's retry of an event, is
acknowledged without being done again. The work marks its row done as the first statement of
its own transaction (handlers/deps.py `working`): a SIGKILL before that commit leaves the row
undone, and `resume` (in this or another process) runs it again; after it, the work is saved and
its answer owed in the outbox. A listener with nothing to write closes its row when it ends.

While the process lives, a heartbeat renews its leases, so nobody else runs what is in its queue.
When it dies, its requests are taken over: on SQLite at once by the one process that replaced it,
on PostgreSQL by any process once the lease (seconds, measured on the database's clock) runs out.
"""

import contextvars
import json
import logging
import threading
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
from store.db import Database, TooSlow, is_sqlite
from store.inbox import Kept

log = logging.getLogger(__name__)
RECEIPT = "baton_inbox"  # the Bolt context key the middleware leaves for the listener
RESUMING = "baton_resuming"  # set on a request `resume` runs again: it is in the inbox already
DURABLE = frozenset({"block_actions", "view_submission", "event_callback"})
# Errors that pass: the same work a little later may well succeed (a lock, a timeout, the
# database briefly away). Their request goes back to the inbox with a backoff. Any other database
# error (a missing table, a broken query) is a bug: the rep is told at once, honestly.
PASSING_TYPES = (PoolTimeout, TooSlow)
PASSING_WORDS = (
    "database is locked",  # SQLite: another writer held the lock past busy_timeout
    "database table is locked",
    "lock timeout",  # PostgreSQL: lock_timeout
    "statement timeout",  # PostgreSQL: statement_timeout
    "deadlock detected",
    "could not serialize",
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "could not connect",
    "connection timeout",
)


class Superseded(Exception):
    """The request is done already, or another process took it over: this work must not commit."""


def is_passing(error: BaseException) -> bool:
    if isinstance(error, PASSING_TYPES):
        return True
    if isinstance(error, OperationalError):
        if error.connection_invalidated:
            return True
        words = str(error.orig or error).lower()
        return any(word in words for word in PASSING_WORDS)
    return False


class Receipt:
    """One kept request, as the listener working on it sees it."""

    def __init__(self, inbox_id: int, door: "Door", *, received_at: datetime, attempts: int) -> None:
        self.inbox_id = inbox_id
        self.received_at = received_at  # when Slack sent it: a response_url lives 30 minutes from here
        self.attempts = attempts  # this try included
        self.door = door
        self.marked = False  # the work's transaction marked it done
        self.committed = False  # ...and that transaction committed: the work is saved
        self.ended = False  # closed, released or superseded: this process holds it no longer

    def __deepcopy__(self, memo: dict[int, object]) -> "Receipt":
        # Bolt deep-copies the context for lazy listeners; a receipt holds the engine, keep it whole.
        return self

    def mark(self, session: Session) -> None:
        """The first statement of the work's transaction: take the request and mark it done at
        once. The work and the mark commit together, or neither does."""
        if self.marked:
            return
        door = self.door
        if not inbox.finish(session, self.inbox_id, owner=door.owner, now=door.clock()):
            raise Superseded(f"inbox {self.inbox_id} is done already or was taken over")
        self.marked = True

    def close(self, outcome: str) -> None:
        """After the listener: ended, if its work had no transaction to mark it in (a read, a refusal)."""
        if self.marked:
            self._end()
            return
        try:
            with self.door.db.sessions.begin() as session:
                inbox.finish(
                    session, self.inbox_id, owner=self.door.owner, now=self.door.clock(), outcome=outcome
                )
        except Exception:  # left to the process: handed back by its heartbeat, or run again
            log.exception("Couldn't close inbox %s; it will be handed back", self.inbox_id)
            self.door.hand_back_later(self.inbox_id, self.attempts, backoff=True)
        self._end()

    def try_again_later(self) -> None:
        """A passing error before the work committed: back to the inbox, for another try after a backoff."""
        self.door.hand_back_later(self.inbox_id, self.attempts, backoff=True)
        self.door.hand_back_pending()
        self._end()

    def leave(self) -> None:
        """Ended without closing (superseded, or stopped by a BaseException): not this process's to finish."""
        if not self.committed and not self.ended:
            self.door.hand_back_later(self.inbox_id, self.attempts, backoff=False)
        self._end()

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self.door.let_go()


CURRENT: contextvars.ContextVar[Receipt | None] = contextvars.ContextVar("baton_receipt", default=None)


def mark_current(session: Session) -> Receipt | None:
    """Called first by every request's work transaction: the first one takes and marks the request."""
    receipt = CURRENT.get()
    if receipt is None or receipt.marked:
        return None
    receipt.mark(session)
    return receipt


def asked_at() -> datetime | None:
    """When the request being worked on arrived (its reply's response_url is that old), if any."""
    receipt = CURRENT.get()
    return receipt.received_at if receipt is not None else None


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


Tell = Callable[[Session, list[Kept]], list[int]]  # owes the dead letters' notices; their outbox ids
Send = Callable[[list[int]], object]
Adopt = Callable[[Session], int]  # frees the rows of another kind a replaced process held; how many


class Door:
    """The middleware, the heartbeat and the resumer, for one process (one owner of leases)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self.owner = new_owner()
        self._lock = threading.Lock()
        self._held = 0  # requests this process has received or taken and not yet ended
        # inbox id -> (attempts, after a backoff): to hand back undone at the next heartbeat
        self._hand_back: dict[int, tuple[int, bool]] = {}
        self._adopted = False

    def register(self, app: App) -> None:
        app.middleware(self.keep)

    # ---- receiving -------------------------------------------------------------------------------
    def keep(self, req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        body = req.body
        kind = durable_kind(body)
        if kind is None or not req.context.team_id:
            return next()  # nothing to keep (a request naming no team is refused further on)
        resuming = req.context.get(RESUMING)
        if resuming is not None:
            req.context[RECEIPT] = resuming  # taken by `resume` already
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
                    owner=self.owner,
                )
        except (TooSlow, OperationalError, PoolTimeout) as error:
            log.warning("Couldn't keep a %s in time (%s): answered without doing it", kind, error)
            return not_kept(body)
        if inbox_id is None:
            retry = req.headers.get("x-slack-retry-num")
            log.info("A %s Baton already has (%s): acknowledged, not done again", kind, retry or "a replay")
            return BoltResponse(status=200, body="")
        req.context[RECEIPT] = self._hold(inbox_id, now, attempts=1)
        return next()

    def _hold(self, inbox_id: int, received_at: datetime, *, attempts: int) -> Receipt:
        with self._lock:
            self._held += 1
        return Receipt(inbox_id, self, received_at=received_at, attempts=attempts)

    def let_go(self) -> None:
        with self._lock:
            self._held = max(0, self._held - 1)

    def hand_back_later(self, inbox_id: int, attempts: int, *, backoff: bool) -> None:
        with self._lock:
            self._hand_back[inbox_id] = (attempts, backoff)

    # ---- the heartbeat ---------------------------------------------------------------------------
    def heartbeat(self) -> None:
        """Renew this process's leases while it holds anything, and hand back what it let go of."""
        self.hand_back_pending()
        with self._lock:
            holding = self._held > 0
        if holding:
            with self.db.sessions.begin() as session:
                inbox.renew(session, owner=self.owner)

    def hand_back_pending(self) -> None:
        with self._lock:
            pending, self._hand_back = self._hand_back, {}
        if not pending:
            return
        try:
            with self.db.sessions.begin() as session:
                for inbox_id, (attempts, backoff) in pending.items():
                    inbox.release(
                        session,
                        inbox_id,
                        owner=self.owner,
                        now=self.clock(),
                        attempts=attempts,
                        backoff=backoff,
                    )
        except Exception:  # the next heartbeat tries again; if the process dies, its lease runs out
            log.exception("Couldn't hand back %d requests yet", len(pending))
            with self._lock:
                self._hand_back = {**pending, **self._hand_back}

    def hand_back_all(self) -> int:
        """On the way out (SIGTERM): everything this process holds goes back for the next one."""
        with self.db.sessions.begin() as session:
            return inbox.hand_back(session, owner=self.owner)

    # ---- recovery --------------------------------------------------------------------------------
    def adopt(self, sending: "Adopt | None" = None) -> int:
        """At start-up on SQLite (served by one process): every lease of the process this one
        replaced is freed at once, so its requests (and, with `sending`, the messages it was
        sending) are taken now, not when the lease runs out."""
        if self._adopted or not is_sqlite(str(self.db.engine.url)):
            return 0
        self._adopted = True
        with self.db.sessions.begin() as session:
            freed = inbox.adopt(session, owner=self.owner)
            messages = sending(session) if sending is not None else 0
        if freed or messages:
            log.info(
                "Took over %d requests and %d messages from the process this one replaced", freed, messages
            )
        return freed

    def resume(self, app: App, tell: Tell, send: Send, sending: "Adopt | None" = None) -> int:
        """Dead-letter what used up its tries, then run again what a dead process (or a passing
        error) left. Safe in every process at once: each row is taken by one of them. (`sending`:
        frees the outbox's rows a replaced process held, see `adopt`.)"""
        self.adopt(sending)
        self.hand_back_pending()
        now = self.clock()
        with self.db.readers.begin() as session:
            if not inbox.anything_to_do(session, owner=self.owner, now=now):
                return 0  # the usual case: no write lock taken
        with self.db.sessions.begin() as session:
            dead = inbox.dead_letters(session, owner=self.owner, now=now)
            owed = tell(session, dead) if dead else []
        for kept in dead:
            log.error(
                "Gave up on inbox %s (a %s from %s) after %d tries; they have been told",
                kept.id,
                kept.kind,
                kept.user_id,
                kept.attempts,
            )
        if owed:
            send(owed)
        with self.db.sessions.begin() as session:
            pending = inbox.take_unfinished(session, owner=self.owner, now=now)
        for kept in pending:
            log.info("Resuming inbox %s (try %d)", kept.id, kept.attempts)
            receipt = self._hold(kept.id, kept.received_at, attempts=kept.attempts)
            request = BoltRequest(
                body=json.loads(kept.body),
                context={RESUMING: receipt},
                # The JSON Bolt parsed when it arrived (signature checked then): Socket Mode's
                # form of a request, which Bolt copies for lazy listeners from the parsed body.
                mode="socket_mode",
            )
            try:
                app.dispatch(request)
            except Exception:
                log.exception("Resuming inbox %s failed", kept.id)
                receipt.leave()
        return len(pending)
