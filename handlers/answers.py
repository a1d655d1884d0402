"""The answer to a command or a click, owed in the work's own transaction and sent from the outbox.

Owed with the change it reports (`owe`), the answer outlives a kill right after the commit: the
restarted process's outbox sweep sends it, once. An answer may take the place of the message
clicked (`replace=True`: a digest shown again, a card decided). A click on the Home tab is
answered by publishing the tab again after the commit (a view published twice shows the same
thing). tests/slack/test_inbox_contract.py fails on a listener that writes and then answers any
other way.
"""

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from handlers import outbox
from handlers.blocks.base import Message
from handlers.courier import Courier
from handlers.deps import Deps
from handlers.payloads import from_home
from handlers.say import publish_home


def owe(
    deps: Deps,
    session: Session,
    body: dict[str, Any],
    context: BoltContext,
    message: Message,
    *,
    replace: bool = False,
) -> list[int]:
    """Owe `message` to whoever sent `body` (a command or a click), ephemeral where they were, or
    (`replace`) in place of the message they clicked."""
    if from_home(body):
        return []
    user = body.get("user")
    user_id = str(user.get("id") if isinstance(user, dict) else body.get("user_id"))
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if replace:
        container = body.get("container") or {}
        # A message Baton posted can be changed with chat.update if the response_url fails or
        # expires; an ephemeral one only through its response_url.
        ts = None if container.get("is_ephemeral") else container.get("message_ts")
        owed = outbox.replace(
            session,
            str(context.team_id),
            user_id,
            message,
            deps=deps,
            response_url=body.get("response_url"),
            channel_id=channel or container.get("channel_id"),
            ts=ts,
        )
        return [owed]
    owed = outbox.reply(
        session,
        str(context.team_id),
        user_id,
        message,
        deps=deps,
        response_url=body.get("response_url"),
        channel_id=channel,
    )
    return [owed]


def send(
    deps: Deps,
    client: WebClient,
    body: dict[str, Any],
    context: BoltContext,
    owed: list[int],
    message: Message,
    *,
    note: str | None = None,
) -> None:
    """After the commit: send what was owed (the answer among it), or show it on the Home tab
    (`note`: the line on top of the tab, if not the answer's own text)."""
    Courier(deps, client).send(owed)
    if from_home(body):
        user = body.get("user") or {}
        publish_home(deps, client, str(context.team_id), str(user.get("id")), note=note or message.text)
