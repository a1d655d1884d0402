"""A command, click or form Slack saw acknowledged is never lost and never done twice: not after a
SIGKILL right after the acknowledgement, not when the same signed request arrives again."""

from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError

from bot.pool import ListenerPool
from coaching.inbox import MAX_ATTEMPTS
from handlers.blocks.ids import Action
from store.db import Database
from store.models import Inbox, Touch
from tests.conftest import DANA, Clock, Harness, flatten, start_harness


class KilledPool(ListenerPool):
    """The process dies right after acknowledging: the work queued behind the acks never runs."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()


def lapse_leases(db: Database) -> None:
    """As if every lease ran out long ago on the database's clock (a dead process stops renewing)."""
    with db.sessions.begin() as session:
        session.execute(update(Inbox).values(lease_until=datetime(2000, 1, 1, tzinfo=UTC)))


@pytest.fixture
def lead(harness: Harness) -> Harness:
    harness.command(DANA, "/lead", "add Acme Corp")
    return harness


def touch_notes(h: Harness) -> list[str]:
    with h.db.readers.begin() as session:
        return list(session.scalars(select(Touch.note).order_by(Touch.id)))


def answers_with(h: Harness, user: str, words: str) -> list[str]:
    return [flatten(m.blocks) for m in h.api.seen_by(user) if words in flatten(m.blocks)]


def test_the_same_signed_command_sent_twice_is_logged_once(lead: Harness) -> None:
    body = lead.slack.command_body(DANA, "/logcall", "acme vm left a message about pricing")
    first = lead.slack.send(body, "application/x-www-form-urlencoded")
    again = lead.slack.send(body, "application/x-www-form-urlencoded")
    retried = lead.slack.send(body, "application/x-www-form-urlencoded", headers={"X-Slack-Retry-Num": "1"})
    assert [first.status, again.status, retried.status] == [200, 200, 200]
    assert touch_notes(lead) == ["left a message about pricing"]
    assert len(answers_with(lead, DANA, "left a message about pricing")) == 1


def test_two_commands_typed_alike_are_both_logged(lead: Harness) -> None:
    lead.command(DANA, "/logcall", "acme no-answer")
    lead.command(DANA, "/logcall", "acme no-answer")
    assert len(touch_notes(lead)) == 2


@pytest.mark.parametrize("later", [1, 45])
def test_a_kill_right_after_the_ack_loses_nothing_and_the_rep_is_answered(
    database: Database, later: int
) -> None:
    clock = Clock()
    first = start_harness(database, clock=clock)
    first.command(DANA, "/lead", "add Acme Corp")
    killed = start_harness(database, clock=clock, api=first.api, pool=KilledPool(4))
    reply = killed.slack.command(DANA, "/logcall", "acme vm asked for the Q3 numbers")
    assert reply.status == 200  # Slack shows the rep nothing wrong: Baton acknowledged it
    assert touch_notes(first) == []  # ...and then the process died
    killed.server.stop()
    clock.advance(minutes=later)
    if database.engine.dialect.name == "postgresql":
        lapse_leases(database)  # nobody renews a dead process's leases: they run out in seconds
    try:
        first.baton.recover()  # what a restarted process does first
        first.baton.pool.wait_idle()
        assert touch_notes(first) == ["asked for the Q3 numbers"]
        [shown] = [m for m in first.api.seen_by(DANA) if "asked for the Q3 numbers" in flatten(m.blocks)]
        # While the response_url is valid the answer is ephemeral where the rep typed; later, a DM.
        assert (shown.source, shown.channel) == (
            ("response_url", "C0GENERAL") if later < 30 else ("chat.postMessage", "D0DANA")
        )
        first.baton.recover()  # a second recovery (another process) finds nothing left to do
        first.baton.pool.wait_idle()
        assert touch_notes(first) == ["asked for the Q3 numbers"]
    finally:
        first.stop()
        killed.baton.deps.db.engine.dispose()


def test_a_failed_response_url_falls_back_to_an_ephemeral_then_a_dm(lead: Harness) -> None:
    lead.api.fail("response_url", status=500, error="internal_error", times=1)
    lead.slack.command(DANA, "/logcall", "acme email sent the deck")
    [shown] = [m for m in lead.api.seen_by(DANA) if "sent the deck" in flatten(m.blocks)]
    assert (shown.source, shown.channel) == ("chat.postEphemeral", "C0GENERAL")
    lead.api.fail("response_url", status=500, error="internal_error", times=1)
    lead.api.workspace.closed_channels.add("C0GENERAL")
    lead.slack.command(DANA, "/logcall", "acme email sent the contract")
    [shown] = [m for m in lead.api.seen_by(DANA) if "sent the contract" in flatten(m.blocks)]
    assert (shown.source, shown.channel) == ("chat.postMessage", "D0DANA")
    assert touch_notes(lead) == ["sent the deck", "sent the contract"]
    assert not answers_with(lead, DANA, "Nothing was saved")


def logcall_form(h: Harness, note: str) -> Any:
    view = h.modal(DANA, "/logcall")
    _, options = h.slack.suggest(DANA, view, Action.LEAD_SEARCH, "acme")
    values = {
        "lead": {Action.LEAD_SEARCH: {"type": "external_select", "selected_option": options[0]}},
        "outcome": {
            "outcome": {
                "type": "static_select",
                "selected_option": {"value": "replied", "text": {"type": "plain_text", "text": "Replied"}},
            }
        },
        "on": {"on": {"type": "datepicker", "selected_date": "2026-11-23"}},
        "note": {"note": {"type": "plain_text_input", "value": note}},
    }
    return h.slack.submit(DANA, view, values)


def test_a_form_whose_work_keeps_failing_after_it_closed_is_answered_by_dm_with_what_was_typed(
    lead: Harness,
) -> None:
    def refuse(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TOUCH"):
            raise OperationalError(statement, params, Exception("database is locked"))

    event.listen(lead.db.engine, "before_cursor_execute", refuse)
    try:
        reply = logcall_form(lead, "They want 40 seats by March")
        for _ in range(MAX_ATTEMPTS):  # tried again after each backoff, then given up on
            lead.clock.advance(minutes=1)
            lead.baton.recover()
            lead.baton.pool.wait_idle()
    finally:
        event.remove(lead.db.engine, "before_cursor_execute", refuse)
    assert reply.status == 200  # the modal closed
    [dm] = [flatten(m.blocks) for m in lead.dms(DANA)]
    assert "Nothing was saved" in dm
    assert "They want 40 seats by March" in dm and "Replied" in dm and "2026-11-23" in dm
    assert touch_notes(lead) == []


def test_text_from_a_form_is_cleaned_like_command_text(lead: Harness) -> None:
    logcall_form(lead, "budget\x00 approved \ud83d by the CFO")
    assert touch_notes(lead) == ["budget approved  by the CFO"]
    assert answers_with(lead, DANA, "approved")


def test_every_acknowledged_request_is_kept_and_closed(lead: Harness) -> None:
    lead.command(DANA, "/logcall", "acme vm")
    with lead.db.readers.begin() as session:
        rows = list(session.scalars(select(Inbox).order_by(Inbox.id)))
    assert [(r.kind, r.outcome, r.attempts) for r in rows] == [("command", "done", 1)] * 2
