"""What a hand-off owes people: requests to the managers, decisions to everyone involved, cards to operations.

Each is written to the outbox in the transaction of the change that owes it (`owe`), and sent
after that commits (handlers/courier.py): a Slack outage delays them, never loses or doubles them.
A request or card that lands is remembered (channel and timestamp), so a decision can update
every manager's copy.
"""

from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from coaching import digest_records, handoff_posts, handoff_sweep
from coaching.caller import Caller
from coaching.handoff_posts import OPS, TRANSFER
from coaching.handoff_results import (
    Decided,
    OpsClaimed,
    OpsForm,
    OpsHandedOff,
    TransferAsked,
    TransferSnapshot,
)
from coaching.outbox import copies_in_doubt, revise_unsent, settle_copies
from handlers import outbox
from handlers.blocks.base import Message
from handlers.blocks.handoffs import (
    handoff_reply,
    ops_card,
    ops_form_opened,
    ops_handed_off,
    ops_modal,
    ops_taken,
    transfer_decided,
    transfer_news,
    transfer_request,
)
from handlers.courier import Courier
from handlers.deps import Deps
from handlers.outcomes import Outcome
from handlers.workspaces import ClientFor, NotInstalled


class HandoffPosts:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def expected(self, result: object, caller: Caller, *, typed: str = "") -> Message:
        """The answer to a /handoff result, owed with it: where it tells of the operations card,
        as if the card went (`deliver` corrects it before it is sent if it didn't)."""
        if isinstance(result, OpsHandedOff):
            posted, problem = ops_posted(result, Outcome("sent", result.ops_channel))
            return ops_handed_off(result, posted_in=posted, problem=problem)
        if isinstance(result, OpsForm):
            return ops_form_opened(result.lead)
        return handoff_reply(result, caller.local_now, typed=typed)

    def deliver(
        self, result: object, client: WebClient, owed: list[int], answer: list[int], expected: Message
    ) -> None:
        """After the commit: what the result owes people first, then the answer owed with it. An
        answer that says the operations card went is corrected first if the card didn't (killed
        before that, the answer still says it went: the outbox posts the card once Slack takes it)."""
        courier = Courier(self.deps, client)
        sent = courier.send(owed)
        if isinstance(result, OpsHandedOff) and answer:
            posted, problem = ops_posted(result, sent.outcomes.get(owed[0]) if owed else None)
            told = ops_handed_off(result, posted_in=posted, problem=problem)
            if told != expected:
                with self.deps.bookkeeping() as session:
                    revise_unsent(session, answer[0], told.payload())
        courier.send(answer)

    def resumed(
        self,
        result: object,
        body: dict[str, Any],
        client: WebClient,
        owed: list[int],
        answer: list[int],
        expected: Message,
    ) -> None:
        """A /handoff that asked "which lead?", finished by the click that picked one (its answer
        owed in place of the question, `expected`): the form opens, or what the hand-off owes is sent."""
        if isinstance(result, OpsForm):
            channel = (body.get("channel") or {}).get("id")
            client.views_open(trigger_id=body["trigger_id"], view=ops_modal(result.lead, channel_id=channel))
        self.deliver(result, client, owed, answer, expected)

    def owe(self, session: Session, result: object, team_id: str) -> list[int]:
        """What a result owes people (managers, the people involved, operations), in its transaction."""
        if isinstance(result, TransferAsked):
            return self.owe_request(
                session, team_id, result.transfer, result.managers, result.manager_channel
            )
        if isinstance(result, Decided):
            return self.owe_decision(session, team_id, result.transfer)
        if isinstance(result, OpsHandedOff) and result.ops_channel is not None:
            card = ops_card(result.handoff)
            # A hand-off handed again (its first card never reached operations): a first card
            # never posted is dropped, and one perhaps in Slack shows this one (posted as it, or
            # changed to it once found) instead of a second card beside it.
            settle_copies(
                session,
                team_id=team_id,
                subject=OPS,
                subject_id=result.handoff.id,
                payload=card.payload(),
                now=self.deps.clock(),
            )
            if copies_in_doubt(session, team_id=team_id, subject=OPS, subject_id=result.handoff.id):
                return []
            return [
                outbox.post(
                    session,
                    team_id,
                    result.ops_channel,
                    card,
                    deps=self.deps,
                    subject=OPS,
                    subject_id=result.handoff.id,
                )
            ]
        return []

    def owe_claim(self, session: Session, team_id: str, result: OpsClaimed) -> list[int]:
        """Someone took the customer: every copy of the card shows who, copies still on their way
        included (never posted ones dropped, ones perhaps in Slack changed to it), and the rep hears."""
        card = ops_card(result.handoff)
        settle_copies(
            session,
            team_id=team_id,
            subject=OPS,
            subject_id=result.handoff.id,
            payload=card.payload(),
            now=self.deps.clock(),
        )
        copies = handoff_posts.posts(session, team_id=team_id, subject=OPS, subject_id=result.handoff.id)
        owed = [outbox.update(session, team_id, channel, ts, card, deps=self.deps) for channel, ts in copies]
        taken = ops_taken(result.handoff)
        owed.append(outbox.post(session, team_id, result.handoff.rep_id, taken, deps=self.deps))
        return owed

    def owe_request(
        self,
        session: Session,
        team_id: str,
        transfer: TransferSnapshot,
        managers: tuple[str, ...],
        channel: str | None,
        *,
        reminder: bool = False,
    ) -> list[int]:
        """One post in the managers' channel (a DM to each manager if it refuses), or a DM to each."""
        message = transfer_request(transfer, reminder=reminder)
        targets, fallback = ([channel], managers) if channel else (list(managers), ())
        return [
            outbox.post(
                session,
                team_id,
                target,
                message,
                deps=self.deps,
                subject=TRANSFER,
                subject_id=transfer.id,
                fallback=fallback,
            )
            for target in targets
        ]

    def owe_decision(self, session: Session, team_id: str, transfer: TransferSnapshot) -> list[int]:
        """After a decision: every manager's copy shows the outcome, and the people involved hear of it."""
        now = self.deps.clock()
        decided = transfer_decided(transfer)
        # Copies still on their way: never posted ones are dropped, ones perhaps in Slack will
        # show the decision (posted as it, or changed to it once found): no live buttons left.
        settle_copies(
            session,
            team_id=team_id,
            subject=TRANSFER,
            subject_id=transfer.id,
            payload=decided.payload(),
            now=now,
        )
        copies = handoff_posts.posts(session, team_id=team_id, subject=TRANSFER, subject_id=transfer.id)
        owed = [
            outbox.update(session, team_id, channel, ts, decided, deps=self.deps) for channel, ts in copies
        ]
        for person in transfer.people:
            if person != transfer.decided_by:
                news = transfer_news(transfer, person)
                owed.append(outbox.post(session, team_id, person, news, deps=self.deps))
        return owed


def ops_posted(result: OpsHandedOff, outcome: Outcome | None) -> tuple[str | None, str | None]:
    """Where the operations card went, or why it couldn't go (it is retried unless that is for good)."""
    if result.ops_channel is None:
        return None, None
    if outcome is not None and outcome.status == "sent":
        return outcome.channel, None
    if outcome is not None and outcome.error in ("not_in_channel", "channel_not_found"):
        return None, f"Baton isn't in <#{result.ops_channel}> yet; invite it with `/invite @Baton` there."
    return None, "Slack didn't accept the post just now; Baton will post it as soon as Slack does."


def sweep(deps: Deps, client: WebClient, *, per_team: ClientFor | None = None) -> tuple[int, int]:
    """The scheduler's job: re-surface requests waiting 2 working days (on each manager's own
    working morning), close the moot ones. `per_team`: each workspace's own client."""
    posts = HandoffPosts(deps)
    owed: list[int] = []
    # Each manager is reminded on their own morning: learn where anyone new is before deciding.
    with deps.db.readers.begin() as session:
        missing = digest_records.managers_without_profile(session, defaults=deps.defaults)
    for team_id, user_id in missing:
        try:
            deps.directory.profile(per_team(team_id) if per_team else client, team_id, user_id)
        except NotInstalled:
            continue
    with deps.bookkeeping() as session:
        resurface, mooted = handoff_sweep.sweep_waiting(session, now=deps.clock(), defaults=deps.defaults)
        for waiting in resurface:
            owed += posts.owe_request(
                session,
                waiting.team_id,
                waiting.transfer,
                waiting.managers,
                waiting.manager_channel,
                reminder=True,
            )
        for waiting in mooted:
            owed += posts.owe_decision(session, waiting.team_id, waiting.transfer)
    Courier(deps, client, per_team=per_team).send(owed)
    return len(resurface), len(mooted)
