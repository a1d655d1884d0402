"""Owing messages: written in the transaction of the change that owes them, for the Courier to send."""

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coaching import outbox
from coaching.outbox import POST, REPLACE, REPLY, UPDATE
from handlers.blocks.base import Message
from handlers.deps import Deps
from handlers.inbox import asked_at
from handlers.outbox_leases import HELD


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
    kept = kept_taken()
    if len(kept) > 1000:  # left by work that rolled back after owing: never sent, so forget them
        kept.clear()
    kept[outbox_id] = taken
    HELD.hold(deps, outbox_id, taken.owner)  # leased until its sender takes it, right after the commit


def kept_taken() -> dict[int, Taken]:
    """Rows this thread wrote already taken, by id."""
    taken: dict[int, Taken] | None = getattr(_local, "taken", None)
    if taken is None:
        taken = _local.taken = {}
    return taken
