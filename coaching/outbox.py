"""Messages Baton owes people: written in the same transaction as the change that owes them, then
taken by one sender at a time, and each outcome recorded.

A row is `pending` until a sender takes it (`sending`, with a lease). The sender then records
`sent`, or a definite failure (`pending` again after a back-off, or `failed` for good), or
`unknown` when Slack's answer was lost. An `unknown` post, or a `sending` one whose lease ran out
(its sender died mid-call), may already be in Slack: the sender looks for it before sending again,
only between when the attempt in doubt began and when it ended (`window`), a page at a time.
After `MAX_UNCERTAIN_ATTEMPTS` it is given up on (`dead`) and logged: never posted blindly.

Leases follow coaching/leases.py, as the inbox's do: seconds long on the database's clock,
renewed by the sending process's heartbeat, so a dead sender's messages are taken over seconds
after it stopped. An answer (`reply`, `replace`) is written already taken by the thread that
sends it after the commit, never tried (`attempts` 0): taken over, it is certainly unsent. As its
one attempt begins it is recorded as sent (`answering`): a response_url answer can't be looked
for afterwards, so an attempt cut short by a kill is never repeated (one answer possibly lost
beats the same answer twice). An attempt that fails is reopened (`reopen`) and recorded as usual.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from coaching.handoff_posts import remember_posts
from coaching.leases import LEASE
from coaching.workspaces import cancel_if_stopped
from store import outbox as rows

FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
UNKNOWN_RECHECK = timedelta(seconds=30)  # let Slack settle before looking for a lost post
MAX_ATTEMPTS = 8  # about four hours of back-off, then the failure is recorded for good
# A post in doubt is looked for about once a minute (conversations.history's limit outside the
# Marketplace); after this many attempts in all it is a dead letter, kept and logged for a person.
MAX_UNCERTAIN_ATTEMPTS = 15
REPLY_URL_LIFETIME = timedelta(minutes=30)  # Slack's response_url accepts posts for 30 minutes
DELIVERY = "delivery"  # the subject of a digest or review: its delivery row is settled with the post
# post: chat.postMessage; update: chat.update of a message Baton posted; reply: a private answer
# (response_url, else an ephemeral, else a DM); replace: an answer shown in place of the message
# clicked (response_url with replace_original, else chat.update of it, else as a reply).
POST, UPDATE, REPLY, REPLACE = "post", "update", "reply", "replace"
ANSWERS = (REPLY, REPLACE)


def new_owner() -> str:
    """A token for one sender or one run: what it took is recognisably its own."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Owed:
    """One message as the sender needs it."""

    id: int
    team_id: str
    method: str
    channel: str
    ts: str | None
    response_url: str | None
    reply_in: str | None
    payload: dict[str, Any]
    subject: str | None
    subject_id: int | None
    fallback: tuple[str, ...]
    attempts: int  # including the one now under way
    created_at: datetime
    uncertain: bool  # a previous attempt may have reached Slack: look before sending again
    # Where to look when uncertain: from when the attempt in doubt began to when it ended (its
    # lease), and, after a page that didn't have it, only messages older than `looked_before`.
    window: tuple[datetime, datetime] | None = None
    looked_before: str | None = None
    cut_short: bool = False  # its sender stopped mid-attempt (its lease ran out): how far it got is unknown

    def still_in_place(self, now: datetime) -> bool:
        """Is an ephemeral answer still timely? After the response_url's lifetime, a DM is better."""
        return now - self.created_at < REPLY_URL_LIFETIME

    def began_in_place(self) -> bool:
        """Did the attempt in doubt begin while the answer went in place (response_url, ephemeral)?"""
        began = self.window[0] if self.window else self.created_at
        return self.still_in_place(began)


def owe(
    session: Session,
    *,
    team_id: str,
    method: str,
    channel: str,
    payload: dict[str, Any],
    now: datetime,
    ts: str | None = None,
    response_url: str | None = None,
    reply_in: str | None = None,
    subject: str | None = None,
    subject_id: int | None = None,
    fallback: Sequence[str] = (),
    since: datetime | None = None,
    taken_by: str | None = None,
) -> int:
    """Write one owed message in the caller's transaction; its id, for sending after the commit.
    `since`: when it became owed, if before now (a reply to a request resumed after a restart).
    `taken_by`: written already taken by this sender (`sending`, with a lease, never tried), which
    sends it right after the commit, its take and its record in one write (`answering`)."""
    return rows.add(
        session,
        lease=LEASE if taken_by else None,
        team_id=team_id,
        method=method,
        channel=channel,
        ts=ts,
        response_url=response_url,
        reply_in=reply_in,
        payload=json.dumps(payload),
        subject=subject,
        subject_id=subject_id,
        fallback=json.dumps(list(fallback)) if fallback else None,
        status="sending" if taken_by else "pending",
        # A post written taken counts its attempt at once (taken over, it is looked for in
        # Slack first); an answer counts it as it begins (`answering`).
        attempts=1 if taken_by and method not in ANSWERS else 0,
        owner=taken_by,
        tried_at=now if taken_by and method not in ANSWERS else None,
        next_attempt_at=now,
        created_at=since or now,
    )


def due(session: Session, *, now: datetime, limit: int = 500, team_id: str | None = None) -> list[int]:
    return rows.due(session, now=now, limit=limit, team_id=team_id)


def take(session: Session, outbox_id: int, *, owner: str, now: datetime) -> Owed | None:
    """Take a row to send it, unless it is sent, not yet due, or held by another live sender."""
    row = rows.get(session, outbox_id)
    if row is None or cancel_if_stopped(session, team_id=row.team_id, outbox_id=row.id, now=now):
        return None
    if not rows.take(session, row, owner=owner, now=now, lease=LEASE):
        return None
    tried = row.attempts > 0  # as read, before this take
    cut_short = row.status == "sending" and tried
    return _owed(row, now=now, uncertain=row.status == "unknown" or cut_short, cut_short=cut_short)


def note(session: Session, owed: Owed, *, owner: str, note: str) -> None:
    """Why an answer recorded as sent as it began is only very likely sent (its answer was lost)."""
    rows.note(session, owed.id, owner=owner, note=note[:200])


def taken_here(session: Session, outbox_id: int, *, owner: str, now: datetime) -> Owed | None:
    """A post written already taken by `owner` (`owe(taken_by=…)`), as it stands: a read, not a
    write. None if it isn't (the transaction that wrote it rolled back, or another sender took it
    over)."""
    row = rows.get_running(session, outbox_id)  # a stopped workspace's: the sender's `take` cancels it
    if row is None or row.status != "sending" or row.owner != owner or row.attempts != 1:
        return None
    return _owed(row, now=now, uncertain=False, attempts=1)


def answering(session: Session, outbox_id: int, *, owner: str, now: datetime) -> Owed | None:
    """An answer written already taken by `owner` (`owe(taken_by=…)`), recorded as sent as its one
    attempt begins; None if it isn't that any more (the transaction that wrote it rolled back, or
    its lease ran out and another sender has it)."""
    row = rows.answering(session, outbox_id, owner=owner, now=now)
    if row is None:  # (a stopped workspace's too: the sender's `take` then cancels it)
        return None
    return _owed(row, now=now, uncertain=False, attempts=1)


def reopen(session: Session, owed: Owed, *, owner: str) -> bool:
    """An answer recorded as sent when it began that did not go (Slack refused it, or it must be
    tried again): the sender's again, to record how it went."""
    return rows.reopen(session, owed.id, owner=owner, lease=LEASE)


def renew_held(session: Session, held: dict[int, str]) -> set[int]:
    return rows.renew_held(session, held, lease=LEASE)


def adopt(session: Session, *, keep: list[int]) -> int:
    """At start-up on SQLite: the messages the replaced process was sending are free at once
    (`keep`: those this process holds itself)."""
    return rows.adopt(session, keep=keep)


def _owed(
    row: Row[Any], *, now: datetime, uncertain: bool, attempts: int | None = None, cut_short: bool = False
) -> Owed:
    return Owed(
        id=row.id,
        team_id=row.team_id,
        method=row.method,
        channel=row.channel,
        ts=row.ts,
        response_url=row.response_url,
        reply_in=row.reply_in,
        payload=json.loads(row.payload),
        subject=row.subject,
        subject_id=row.subject_id,
        fallback=tuple(json.loads(row.fallback)) if row.fallback else (),
        attempts=row.attempts + 1 if attempts is None else attempts,
        created_at=row.created_at,
        uncertain=uncertain,
        # A sender cut short stopped at some moment before now (its lease says little: freed
        # at once on SQLite); an attempt found unknown ended when `lease_until` says.
        window=(row.tried_at or row.created_at, now if cut_short else row.lease_until or now)
        if uncertain
        else None,
        looked_before=row.looked_before if uncertain else None,
        cut_short=cut_short,
    )


def hold(session: Session, owed: Owed, *, owner: str, now: datetime, longer: float) -> bool:
    """A sender about to wait (Slack's Retry-After) keeps its row: the lease covers the wait and a
    whole send after it, so no other sender takes the row meanwhile. False if it isn't its row."""
    return rows.renew(session, owed.id, owner=owner, lease=timedelta(seconds=longer) + LEASE)


def sent(
    session: Session,
    owed: Owed,
    *,
    owner: str,
    now: datetime,
    channel: str,
    ts: str | None,
    note: str | None = None,
    shows_old: bool = False,
) -> list[int]:
    """Slack has it (`note`: or very likely has it, and why not certain). A post that must change
    later is remembered where it landed. If what it should show changed while it was on its way
    (a request decided meanwhile), or it was found in Slack showing an older version
    (`shows_old`), the change is owed too: the ids to send now."""
    current = rows.finished(
        session,
        owed.id,
        owner=owner,
        status="sent",
        finished_at=now,
        sent_channel=channel,
        sent_ts=ts,
        error=note[:200] if note else None,
    )
    if current is None:
        return []
    if owed.subject == DELIVERY and owed.subject_id is not None:
        rows.settle_delivery(session, owed.subject_id, status="sent", now=now, channel=channel, ts=ts)
    elif owed.subject is not None and owed.subject_id is not None and ts is not None:
        remember_posts(
            session,
            team_id=owed.team_id,
            subject=owed.subject,
            subject_id=owed.subject_id,
            posted=[(channel, ts)],
            now=now,
        )
    if owed.method == POST and ts is not None and (shows_old or json.loads(current) != owed.payload):
        return [
            owe(
                session,
                team_id=owed.team_id,
                method=UPDATE,
                channel=channel,
                ts=ts,
                payload=json.loads(current),
                now=now,
            )
        ]
    return []


def failed(
    session: Session,
    owed: Owed,
    *,
    owner: str,
    now: datetime,
    error: str,
    retry: bool,
    retry_after: float | None = None,
) -> list[int]:
    """Slack said no. A passing failure is tried again after a back-off; a lasting one is recorded,
    and the message goes to its fallbacks (the ids of those, to send now)."""
    if retry and owed.attempts < MAX_ATTEMPTS:
        wait = timedelta(seconds=retry_after) if retry_after else FIRST_RETRY * 2 ** (owed.attempts - 1)
        rows.finish(
            session,
            owed.id,
            owner=owner,
            status="pending",
            next_attempt_at=now + min(wait, LAST_RETRY),
            error=error[:200],
        )
        return []
    if not rows.finish(session, owed.id, owner=owner, status="failed", finished_at=now, error=error[:200]):
        return []
    if owed.subject == DELIVERY and owed.subject_id is not None:
        rows.settle_delivery(session, owed.subject_id, status="failed", now=now, error=error[:200])
    return [
        owe(
            session,
            team_id=owed.team_id,
            method=POST,
            channel=target,
            payload=owed.payload,
            now=now,
            subject=owed.subject,
            subject_id=owed.subject_id,
        )
        for target in owed.fallback
    ]


def unknown(
    session: Session,
    owed: Owed,
    *,
    owner: str,
    now: datetime,
    error: str,
    posted_at: datetime | None = None,
    looked_before: str | None = None,
    retry_after: float | None = None,
) -> bool:
    """Slack's answer was lost (or the post couldn't be looked for yet): it may be there. Look for
    it, between when the attempt in doubt began (`posted_at` for a post just made) and now, before
    anything is sent again. After MAX_UNCERTAIN_ATTEMPTS it is a dead letter: True then."""
    if owed.attempts >= MAX_UNCERTAIN_ATTEMPTS:
        if not rows.finish(session, owed.id, owner=owner, status="dead", finished_at=now, error=error[:200]):
            return False
        if owed.subject == DELIVERY and owed.subject_id is not None:
            rows.settle_delivery(session, owed.subject_id, status="failed", now=now, error=error[:200])
        return True
    wait = max(UNKNOWN_RECHECK, timedelta(seconds=retry_after or 0))
    # Posted just now: the earlier attempts were looked for and aren't there, so only this one is
    # in doubt, from when it was made to now. Otherwise (not looked for yet, or not all of it) the
    # same window as before: the take moved the lease, so it is put back.
    window = (posted_at, now) if posted_at is not None else owed.window or (owed.created_at, now)
    values: dict[str, object] = {
        "next_attempt_at": now + wait,
        "tried_at": window[0],
        "lease_until": window[1],
        "looked_before": looked_before,
    }
    rows.finish(session, owed.id, owner=owner, status="unknown", error=error[:200], **values)
    return False


def settle_copies(
    session: Session, *, team_id: str, subject: str, subject_id: int, payload: dict[str, Any], now: datetime
) -> None:
    """A request decided (or a card taken) while copies of it are still on their way: copies never
    posted are cancelled, and copies that may be in Slack show `payload` whatever happens next."""
    rows.cancel_unsent(session, team_id=team_id, subject=subject, subject_id=subject_id, now=now)
    rows.revise_in_doubt(
        session, team_id=team_id, subject=subject, subject_id=subject_id, payload=json.dumps(payload)
    )


def copies_in_doubt(session: Session, *, team_id: str, subject: str, subject_id: int) -> bool:
    """Is a post about this perhaps in Slack already (its outcome unknown, or being sent)?"""
    return rows.posts_in_doubt(session, team_id=team_id, subject=subject, subject_id=subject_id)


def revise_unsent(session: Session, outbox_id: int, payload: dict[str, Any]) -> bool:
    """What an answer owed but never tried yet says, changed before it goes (False: it went)."""
    return rows.revise_unsent(session, outbox_id, payload=json.dumps(payload))


def cancel_unsent(session: Session, *, team_id: str, subject: str, subject_id: int, now: datetime) -> None:
    rows.cancel_unsent(session, team_id=team_id, subject=subject, subject_id=subject_id, now=now)


# ---- digest and review claims: held by one run, queued into the outbox one recipient at a time ----


def renew_claims(session: Session, *, owner: str, now: datetime) -> None:
    """A run about to send to its next recipient: its other claims are fresh again, so a slow run
    (Slack pacing it, retrying a 429) is never mistaken for a dead one and taken over."""
    rows.renew_claims(session, owner=owner, now=now)


def queue_delivery(
    session: Session,
    *,
    owner: str,
    team_id: str,
    user_id: str,
    kind: str,
    local_date: date,
    now: datetime,
    empty: bool = False,
) -> int | None:
    """Hand the run's claim to the outbox (or close it: nothing to say); None when it isn't the run's
    any more. From here on only the outbox sends it, so a retry can never become a second digest."""
    delivery_id = rows.queue_delivery(
        session,
        owner=owner,
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        local_date=local_date,
        status="empty" if empty else "queued",
    )
    if delivery_id is not None and empty:
        rows.settle_delivery(session, delivery_id, status="empty", now=now)
    return delivery_id
