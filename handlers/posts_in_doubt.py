"""Looking for a post in doubt in Slack's history, by the outbox id its metadata carries."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coaching.outbox import Owed
from handlers.outcomes import LOST, Outcome, refused

log = logging.getLogger(__name__)
EVENT_TYPE = "baton_outbox"  # the metadata event type that marks Baton's own posts
# Slack serves conversations.history to apps outside the Marketplace at about one call a minute
# and at most 15 messages a call: a lost post is looked for a page a minute, only around its post.
HISTORY_PAGE = 15
HISTORY_INTERVAL = timedelta(seconds=60)
CLOCK_SKEW = timedelta(seconds=30)  # Slack's clock and ours: the window around a post is this wider
_last_looks: "WeakKeyDictionary[WebClient, dict[str, datetime]]" = WeakKeyDictionary()


def last_looks(client: WebClient) -> dict[str, datetime]:
    """When this app last read each channel's history with `client`, by channel."""
    return _last_looks.setdefault(client, {})


def look(
    owed: Owed, *, client: WebClient, looks: dict[str, datetime], clock: Callable[[], datetime]
) -> Outcome | None:
    """Look for a post in doubt: its outcome if settled (found, or still to look for), None
    when Slack certainly hasn't it (every message in its window read), so it is posted now."""
    now = clock()
    last = looks.get(owed.channel)
    if last is not None and last <= now < last + HISTORY_INTERVAL:  # one call a minute per channel
        wait = (last + HISTORY_INTERVAL - now).total_seconds()
        return Outcome(
            "unknown", error="waiting to look for it", retry_after=wait, looked_before=owed.looked_before
        )
    looks[owed.channel] = now
    try:
        channel, message, more, oldest = _find(owed, client, clock)
    except SlackApiError as error:
        refusal = refused(error)
        return Outcome(
            "unknown",
            error=f"looking for it: {refusal.error}",
            retry_after=refusal.retry_after,
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


def _find(
    owed: Owed, client: WebClient, clock: Callable[[], datetime]
) -> tuple[str, dict[str, Any] | None, bool, str | None]:
    """One page of the post's window, newest first: (channel, the post if there, more older
    messages in the window, the oldest ts read). Found by the outbox id in its metadata."""
    channel = owed.channel
    if channel[:1] in ("U", "W"):
        channel = str(client.conversations_open(users=channel)["channel"]["id"])
    began, ended = owed.window or (owed.created_at, clock())
    history = client.conversations_history(
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


def _slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"
