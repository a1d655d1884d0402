"""Posting hand-offs where they must be seen: requests to the managers, decisions to everyone involved, cards to operations.

Each post is remembered (channel and timestamp) so a decision can update every manager's copy;
a post that Slack refuses is logged and the rest still go out.
"""

import logging
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coaching import handoffs
from coaching.caller import Caller
from coaching.handoffs import (
    OPS,
    TRANSFER,
    Decided,
    OpsForm,
    OpsHandedOff,
    TransferAsked,
    TransferSnapshot,
)
from handlers.blocks.base import Message
from handlers.blocks.handoffs import (
    handoff_reply,
    ops_card,
    ops_form_opened,
    ops_handed_off,
    ops_modal,
    transfer_decided,
    transfer_news,
    transfer_request,
)
from handlers.deps import Deps

log = logging.getLogger(__name__)


class HandoffPosts:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def deliver(self, result: object, client: WebClient, caller: Caller, *, typed: str = "") -> Message:
        """Post what a /handoff result asks for (to managers, to operations), then say what happened."""
        if isinstance(result, TransferAsked):
            self.post_request(
                client, caller.team_id, result.transfer, result.managers, result.manager_channel
            )
        elif isinstance(result, Decided):
            self.announce(client, caller.team_id, result.transfer)
        elif isinstance(result, OpsHandedOff):
            posted, problem = self.post_ops(client, caller.team_id, result)
            return ops_handed_off(result, posted_in=posted, problem=problem)
        return handoff_reply(result, caller.local_now, typed=typed)

    def resumed(
        self, result: object, body: dict[str, Any], respond: Respond, client: WebClient, caller: Caller
    ) -> None:
        """A /handoff that asked "which lead?", finished by the click that picked one: the form
        opens, or what the hand-off asks for is posted, and the question is replaced by the answer."""
        if isinstance(result, OpsForm):
            channel = (body.get("channel") or {}).get("id")
            client.views_open(trigger_id=body["trigger_id"], view=ops_modal(result.lead, channel_id=channel))
            message = ops_form_opened(result.lead)
        else:
            message = self.deliver(result, client, caller)
        respond(**message.payload(), response_type="ephemeral", replace_original=True)

    def post_request(
        self,
        client: WebClient,
        team_id: str,
        transfer: TransferSnapshot,
        managers: tuple[str, ...],
        channel: str | None,
        *,
        reminder: bool = False,
    ) -> None:
        """One post in the managers' channel, or a DM to each manager when there is none (or it fails)."""
        message = transfer_request(transfer, reminder=reminder)
        posted = self.post(client, [channel], message) if channel else []
        if not posted:
            posted = self.post(client, list(managers), message)
        with self.deps.db.sessions.begin() as session:
            handoffs.remember_posts(
                session,
                team_id=team_id,
                subject=TRANSFER,
                subject_id=transfer.id,
                posted=posted,
                now=self.deps.clock(),
            )

    def announce(self, client: WebClient, team_id: str, transfer: TransferSnapshot) -> None:
        """After a decision: every manager's copy shows the outcome, and the people involved hear of it."""
        with self.deps.db.readers.begin() as session:
            copies = handoffs.posts(session, team_id=team_id, subject=TRANSFER, subject_id=transfer.id)
        decided = transfer_decided(transfer)
        for channel, ts in copies:
            try:
                client.chat_update(channel=channel, ts=ts, **decided.payload())
            except SlackApiError as error:
                log.warning(
                    "Couldn't update request %s in %s: %s", transfer.id, channel, error.response.get("error")
                )
        for person in transfer.people:
            if person != transfer.decided_by:
                self.post(client, [person], transfer_news(transfer, person))

    def post_ops(
        self, client: WebClient, team_id: str, result: OpsHandedOff
    ) -> tuple[str | None, str | None]:
        """Post the card in the operations channel; (where it went, or why it couldn't)."""
        if result.ops_channel is None:
            return None, None
        try:
            response = client.chat_postMessage(
                channel=result.ops_channel, **ops_card(result.handoff).payload()
            )
        except SlackApiError as error:
            code = error.response.get("error")
            log.warning("Couldn't post to the operations channel %s: %s", result.ops_channel, code)
            if code in ("not_in_channel", "channel_not_found"):
                return (
                    None,
                    f"Baton isn't in <#{result.ops_channel}> yet; invite it with `/invite @Baton` there.",
                )
            return None, "Slack didn't accept the post just now."
        with self.deps.db.sessions.begin() as session:
            handoffs.remember_posts(
                session,
                team_id=team_id,
                subject=OPS,
                subject_id=result.handoff.id,
                posted=[(response["channel"], response["ts"])],
                now=self.deps.clock(),
            )
        return str(response["channel"]), None

    def post(self, client: WebClient, targets: list[str], message: Message) -> list[tuple[str, str]]:
        posted = []
        for target in targets:
            try:
                response = client.chat_postMessage(channel=target, **message.payload())
                posted.append((str(response["channel"]), str(response["ts"])))
            except SlackApiError as error:
                log.warning("Couldn't post to %s: %s", target, error.response.get("error"))
        return posted


def sweep(deps: Deps, client: WebClient) -> tuple[int, int]:
    """The scheduler's job: re-surface requests waiting 2 working days, close the moot ones."""
    posts = HandoffPosts(deps)
    with deps.db.sessions.begin() as session:
        resurface, mooted = handoffs.sweep_waiting(session, now=deps.clock(), defaults=deps.defaults)
    for waiting in resurface:
        posts.post_request(
            client,
            waiting.team_id,
            waiting.transfer,
            waiting.managers,
            waiting.manager_channel,
            reminder=True,
        )
    for waiting in mooted:
        posts.announce(client, waiting.team_id, waiting.transfer)
    return len(resurface), len(mooted)
