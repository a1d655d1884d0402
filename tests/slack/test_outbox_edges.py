"""The outbox at its edges: 429s it waits out itself, answers whose outcome is uncertain, requests
decided while a manager's copy was still on its way, and lost posts looked for within Slack's limits."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import event, select

from bot.localslack import Shown
from coaching.leases import LEASE
from coaching.settings import TeamConfig
from handlers.blocks.base import Message
from handlers.blocks.ids import Action
from handlers.courier import Courier
from handlers.outbox import reply
from handlers.outbox_leases import HELD
from store.db import Database
from store.leases import database_now
from store.models import Outbox
from tests.conftest import DANA, KENJI, MORGAN, TOKEN, Harness, flatten, lapse_sending, start_harness

OPS, MANAGERS = "C0OPS", "C0MANAGERS"


def test_a_logcall_answer_whose_response_url_answer_is_lost_is_not_shown_twice(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.api.lose_answer("response_url", how="drop")  # Slack shows it; Baton never hears back
    before = len(harness.api.seen_by(DANA))
    harness.slack.command(DANA, "/logcall", "acme vm left a message")
    answers = [m for m in harness.api.seen_by(DANA)[before:] if "Acme Corp" in harness.seen_text(m)]
    assert len(answers) == 1  # the rep sees one answer, not the same one again as an ephemeral
    assert harness.api.calls_to("chat.postEphemeral") == []
    with harness.db.readers.begin() as session:
        # The last answer owed: /logcall's (/lead's went before it).
        row = session.scalars(
            select(Outbox).where(Outbox.method == "reply").order_by(Outbox.id.desc())
        ).first()
    assert row is not None and (row.status, row.error) == ("sent", "uncertain: RemoteDisconnected")


def test_two_long_rate_limits_and_another_sweep_meanwhile_still_give_one_copy(database: Database) -> None:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN})))
    try:
        h.command(DANA, "/lead", "add Acme Corp")
        other_process = Courier(h.baton.deps, h.baton.client)

        def waiting(seconds: float) -> None:
            """Time passes while a sender waits; another process's clock job sweeps meanwhile."""
            h.sleeps.append(seconds)
            h.clock.advance(seconds=seconds)
            other_process.sweep()

        for handler in h.baton.client.retry_handlers:  # every wait the Web API client makes
            if hasattr(handler, "sleep"):
                handler.sleep = waiting
        h.api.fail("chat.postMessage", status=429, retry_after=70, times=2)
        h.command(DANA, "/handoff", "acme @sam they know the CFO")  # the request to Morgan: 429
        for _ in range(5):  # the clock's outbox job, once a minute, for five minutes
            h.clock.advance(seconds=61)
            other_process.sweep()
            Courier(h.baton.deps, h.baton.client).sweep()
        requests = [m for m in h.dms(MORGAN) if "Hand-off request" in flatten(m.blocks)]
        assert len(requests) == 1
        assert [c.status for c in h.api.calls_to("chat.postMessage")] == [429, 429, 200]
        assert 70 not in [int(s) for s in h.sleeps]  # nobody slept out a Retry-After holding the row
    finally:
        h.stop()


# ---- copies of a hand-off request still on their way when another manager decides ------------------


@pytest.fixture
def managers(database: Database) -> Iterator[Harness]:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN, KENJI})))
    h.command(DANA, "/lead", "add Acme Corp")
    yield h
    h.stop()
    assert h.api.problems == [], h.api.problems


def live_buttons(h: Harness, manager: str) -> list[str]:
    """The Approve/Reject buttons on every copy of the request the manager can still press."""
    return [
        e["action_id"]
        for m in h.dms(manager)
        for b in m.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] in (Action.TRANSFER_APPROVE, Action.TRANSFER_REJECT)
    ]


def copies(h: Harness, manager: str) -> list[Shown]:
    return [m for m in h.dms(manager) if "Acme Corp" in flatten(m.blocks) and m.source == "chat.postMessage"]


def sweep_later(h: Harness, minutes: int = 5) -> None:
    h.clock.advance(minutes=minutes)
    Courier(h.baton.deps, h.baton.client).sweep()


def decide_on_the_copy_that_arrived(h: Harness) -> str:
    """The manager whose copy arrived approves; returns the other manager, whose copy is in doubt."""
    arrived = next(m for m in (MORGAN, KENJI) if live_buttons(h, m))
    card = next(m for m in h.dms(arrived) if "Hand-off request" in flatten(m.blocks))
    h.slack.click(arrived, card, Action.TRANSFER_APPROVE)
    return KENJI if arrived == MORGAN else MORGAN


def test_a_copy_in_doubt_when_the_other_manager_decides_ends_without_live_buttons(managers: Harness) -> None:
    h = managers
    h.api.lose_answer("chat.postMessage", how="drop")  # the first manager's copy lands; Baton never hears
    h.command(DANA, "/handoff", "acme @sam they know the CFO")
    late = decide_on_the_copy_that_arrived(h)
    assert live_buttons(h, late)  # in Slack, buttons and all, though Baton doesn't know it yet
    sweep_later(h)  # found in Slack, and brought in line with the decision
    assert live_buttons(h, late) == []
    assert len(copies(h, late)) == 1  # found, not posted again
    assert "approved" in flatten(copies(h, late)[0].blocks).lower()


def test_a_copy_still_retrying_when_the_other_manager_decides_is_never_posted_with_buttons(
    managers: Harness,
) -> None:
    h = managers
    h.api.fail(
        "chat.postMessage", status=500, error="internal_error", times=3
    )  # one copy: 500, twice retried
    h.command(DANA, "/handoff", "acme @sam they know the CFO")
    late = decide_on_the_copy_that_arrived(h)
    for _ in range(3):
        sweep_later(h)
    assert live_buttons(h, late) == []
    with h.db.readers.begin() as session:
        statuses = {r.status for r in session.scalars(select(Outbox).where(Outbox.subject == "transfer"))}
    assert statuses == {"sent", "cancelled"}


# ---- a post in doubt, looked for within conversations.history's limits ------------------------------


def test_a_lost_ops_card_followed_by_250_messages_is_found_not_posted_twice(database: Database) -> None:
    config = TeamConfig(manager_ids=frozenset({MORGAN}), ops_channel=OPS)
    h = start_harness(database, config=config)
    try:
        h.api.workspace.channels[OPS] = "ops"
        h.command(DANA, "/lead", "add Acme Corp")
        h.api.lose_answer("chat.postMessage", how="drop")  # the card is posted; Baton never hears
        h.command(DANA, "/handoff", "acme ops 40 seats, annual; go-live by 15 Jan")
        colleagues = WebClient(token=TOKEN, base_url=h.api.url)
        for number in range(250):  # a busy channel: the next hour's chatter
            h.clock.advance(seconds=15)
            colleagues.chat_postMessage(channel=OPS, text=f"deal chatter {number}")
        Courier(h.baton.deps, h.baton.client).sweep()
        cards = [m for m in h.api.shown if m.channel == OPS and "New customer" in flatten(m.blocks)]
        assert len(cards) == 1
        [look] = h.api.calls_to("conversations.history")
        assert int(look.args["limit"]) <= 15
        assert float(look.args["latest"]) - float(look.args["oldest"]) < 5 * 60  # around the post only
        with h.db.readers.begin() as session:
            assert session.scalars(select(Outbox.status).where(Outbox.channel == OPS)).one() == "sent"
    finally:
        h.stop()


def test_a_post_that_cant_be_looked_for_is_given_up_on_as_a_dead_letter_never_posted_twice(
    managers: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = managers
    h.api.lose_answer("chat.postMessage", how="drop")
    h.api.fail("conversations.history", status=500, error="internal_error", times=10_000)
    h.command(DANA, "/handoff", "acme @sam they know the CFO")
    with caplog.at_level(logging.ERROR, logger="handlers.courier"):
        for _ in range(30):
            sweep_later(h, minutes=2)
    with h.db.readers.begin() as session:
        rows = list(session.scalars(select(Outbox).where(Outbox.subject == "transfer")))
    assert sorted(r.status for r in rows) == ["dead", "sent"]
    assert sum(len(copies(h, m)) for m in (MORGAN, KENJI)) == 2  # each manager's copy, once
    assert "kept as a dead letter" in caplog.text
    looks = len(h.api.calls_to("conversations.history"))
    sweep_later(h, minutes=60)
    assert len(h.api.calls_to("conversations.history")) == looks  # a dead letter is left alone


def test_two_posts_in_doubt_in_one_channel_are_looked_for_once_a_minute(database: Database) -> None:
    config = TeamConfig(manager_ids=frozenset({MORGAN}), manager_channel=MANAGERS)
    h = start_harness(database, config=config)
    try:
        h.api.workspace.channels[MANAGERS] = "managers"
        h.command(DANA, "/lead", "add Acme Corp")
        h.command(DANA, "/lead", "add Globex")
        h.api.lose_answer("chat.postMessage", how="drop", times=2)
        h.command(DANA, "/handoff", "acme @sam")
        h.command(DANA, "/handoff", "globex @sam")
        h.clock.advance(minutes=5)
        Courier(h.baton.deps, h.baton.client).sweep()
        assert len(h.api.calls_to("conversations.history")) == 1  # the second waits its minute
        h.clock.advance(seconds=61)
        Courier(h.baton.deps, h.baton.client).sweep()
        assert [c.status for c in h.api.calls_to("conversations.history")] == [200, 200]
        requests = [m for m in h.api.shown if m.channel == MANAGERS]
        assert len(requests) == 2
        with h.db.readers.begin() as session:
            assert set(session.scalars(select(Outbox.status).where(Outbox.channel == MANAGERS))) == {"sent"}
    finally:
        h.stop()


# ---- fewer writes per command ------------------------------------------------------------------------


def outbox_writes(h: Harness) -> list[list[str]]:
    """Every committed transaction that wrote to the outbox table, by the statements it ran."""
    found: list[list[str]] = []

    @event.listens_for(h.db.engine, "before_cursor_execute")
    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            conn.info.setdefault("wrote", []).append(" ".join(sql.split()[:3]))

    @event.listens_for(h.db.engine, "commit")
    def commit(conn: Any) -> None:
        wrote = conn.info.pop("wrote", [])
        if any("outbox" in s for s in wrote):
            found.append(wrote)

    @event.listens_for(h.db.engine, "rollback")
    def rollback(conn: Any) -> None:
        conn.info.pop("wrote", None)

    return found


def test_a_logcall_reply_is_owed_and_recorded_in_two_writes_not_three(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    writes = outbox_writes(harness)
    reply = harness.command(DANA, "/logcall", "acme vm left a message")
    assert "Logged a *voicemail*" in harness.seen_text(reply)
    # Owed in the work's own transaction (already taken by its sender), then its outcome: no
    # transaction of its own just to take it.
    assert len(writes) == 2, writes
    assert any("INSERT INTO touch" in s for s in writes[0])
    assert all("outbox" in s for s in writes[1]) and len(writes[1]) == 1
    with harness.db.readers.begin() as session:
        row = session.scalars(
            select(Outbox).where(Outbox.method == "reply").order_by(Outbox.id.desc())
        ).first()
    assert row is not None and (row.status, row.attempts) == ("sent", 1)


def test_a_reply_owed_by_a_process_that_died_before_sending_it_is_sent_by_a_sweep(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    deps = harness.baton.deps
    with deps.db.sessions.begin() as session:  # the work committed; the process died right after
        reply(
            session,
            "T0TEST",
            DANA,
            Message(text="Logged a voicemail on Acme Corp."),
            deps=deps,
            response_url=harness.api.response_url(DANA, "C0GENERAL"),
            channel_id="C0GENERAL",
        )
    Courier(deps, harness.baton.client).sweep()  # another process: the row is still its sender's
    assert not [m for m in harness.api.seen_by(DANA) if m.text.startswith("Logged a voicemail")]
    lapse_sending(harness.db)  # the dead sender's lease runs out
    Courier(deps, harness.baton.client).sweep()
    assert len([m for m in harness.api.seen_by(DANA) if m.text.startswith("Logged a voicemail")]) == 1


class Killed(BaseException):
    """The process stopped (kill -9, as seen from inside): nothing after this line ran."""


def test_an_answer_shown_just_before_its_sender_was_killed_is_not_shown_again(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    shown_before = len(harness.api.calls_to("response_url"))
    killed: list[str] = []

    def kill_after_answer(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Slack has shown the answer; the sender dies at its next word to the outbox, if any.
        answered = len(harness.api.calls_to("response_url")) > shown_before
        if answered and "OUTBOX" in statement.upper() and not killed:
            killed.append(statement)
            raise Killed()

    event.listen(harness.db.engine, "before_cursor_execute", kill_after_answer)
    try:
        harness.slack.command(DANA, "/logcall", "acme vm left a message")
    finally:
        event.remove(harness.db.engine, "before_cursor_execute", kill_after_answer)
    lapse_sending(harness.db)  # whatever the dead sender held is free now
    harness.clock.advance(minutes=5)
    Courier(harness.baton.deps, harness.baton.client).sweep()  # the process that takes over
    shown = [c for c in harness.api.calls_to("response_url")[shown_before:] if "Acme Corp" in str(c.args)]
    assert len(shown) == 1  # an answer in place can't be looked for: never sent again on a guess


def test_a_restarted_process_sends_what_the_killed_one_was_about_to_answer(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    deps = harness.baton.deps
    with deps.db.sessions.begin() as session:  # the work committed; the process died right after
        reply(
            session,
            "T0TEST",
            DANA,
            Message(text="Logged a voicemail on Acme Corp."),
            deps=deps,
            response_url=harness.api.response_url(DANA, "C0GENERAL"),
            channel_id="C0GENERAL",
        )
    HELD.let_go_all()  # killed: its heartbeat stopped with it
    with deps.db.readers.begin() as session:
        # Its lease: seconds on the database's clock, not minutes on the process's own.
        left = session.scalar(
            select(Outbox.lease_until).where(Outbox.method == "reply").order_by(Outbox.id.desc())
        )
        now = session.scalar(select(database_now(session)))
    assert left is not None and now is not None
    assert (
        left - (now if isinstance(now, datetime) else datetime.fromisoformat(now).replace(tzinfo=UTC))
        <= LEASE
    )
    if database_is_postgresql(harness.db):
        lapse_sending(harness.db)  # several processes: free once the lease runs out
    restarted = start_harness(harness.db, clock=harness.clock, api=harness.api)
    try:
        restarted.baton.recover()  # its start-up pass: on SQLite the dead process's rows are its own now
        said = [m for m in harness.api.seen_by(DANA) if m.text == "Logged a voicemail on Acme Corp."]
        assert len(said) == 1
    finally:
        restarted.server.stop()
        restarted.baton.pool.shutdown(wait=True)


def test_the_outbox_heartbeat_keeps_a_slow_senders_row_and_lets_a_dead_ones_go(harness: Harness) -> None:
    deps = harness.baton.deps
    with deps.db.sessions.begin() as session:
        owed = reply(
            session,
            "T0TEST",
            DANA,
            Message(text="Logged a voicemail on Acme Corp."),
            deps=deps,
            response_url=None,
            channel_id="C0GENERAL",
        )
    lapse_sending(harness.db)  # as if its lease had nearly run out...
    HELD.hold(deps, owed, owner_of(harness.db, owed))
    assert HELD.renew(every=0) == 1  # ...and the heartbeat renewed it: no sweep takes it
    assert Courier(deps, harness.baton.client).sweep().sent == 0
    HELD.let_go_all()  # the sender died
    lapse_sending(harness.db)
    assert HELD.renew(every=0) == 0
    assert Courier(deps, harness.baton.client).sweep().sent == 1


def owner_of(db: Database, outbox_id: int) -> str:
    with db.readers.begin() as session:
        return str(session.scalar(select(Outbox.owner).where(Outbox.id == outbox_id)))


def database_is_postgresql(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"


# ---- operations cards in doubt, brought in line ------------------------------------------------------


def ops_cards(h: Harness) -> list[Shown]:
    return [m for m in h.api.shown if m.channel == OPS and "New customer" in flatten(m.blocks)]


def test_an_ops_card_in_doubt_when_someone_takes_it_ends_showing_who_took_it(database: Database) -> None:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN}), ops_channel=OPS))
    try:
        h.api.workspace.channels[OPS] = "ops"
        h.command(DANA, "/lead", "add Acme Corp")
        h.api.lose_answer("chat.postMessage", how="drop")  # the card is posted; Baton never hears
        h.command(DANA, "/handoff", "acme ops 40 seats, annual; go-live by 15 Jan")
        [card] = ops_cards(h)
        h.slack.click(KENJI, card, Action.OPS_CLAIM)  # taken in Slack before Baton knows the card is there
        sweep_later(h)  # found in Slack, and brought in line with the claim
        [card] = ops_cards(h)
        assert "Taken by <@U0KENJI>" in flatten(card.blocks)
        assert Action.OPS_CLAIM not in str(card.blocks)
    finally:
        h.stop()


def test_an_ops_hand_off_done_again_while_its_card_is_in_doubt_leaves_one_card(database: Database) -> None:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN}), ops_channel=OPS))
    try:
        h.api.workspace.channels[OPS] = "ops"
        h.command(DANA, "/lead", "add Acme Corp")
        h.api.lose_answer("chat.postMessage", how="drop")  # the card is posted; Baton never hears
        h.command(DANA, "/handoff", "acme ops 40 seats, annual; go-live by 15 Jan")
        h.command(
            DANA, "/handoff", "acme ops 40 seats, annual; go-live by 1 Feb"
        )  # told it may not have gone
        for _ in range(3):
            sweep_later(h)
        [card] = ops_cards(h)  # one card, not a second beside the first
        assert "1 Feb" in flatten(card.blocks)
    finally:
        h.stop()
