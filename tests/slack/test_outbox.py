"""Messages Baton owes go out exactly once: through Slack failing, answers lost after posting, and
answers that come too late, every notice arrives once Slack recovers and none arrives twice."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from coaching.settings import TeamConfig
from handlers.blocks.ids import Action
from handlers.courier import Courier
from handlers.deliveries import Deliveries, RunReport
from handlers.say import Pacer
from store.db import Database
from store.models import Lead, Outbox
from tests.conftest import DANA, KENJI, MORGAN, SAM, Harness, flatten, lapse_sending, start_harness
from tests.slack.test_digest import MONDAY_MORNING_NY, delivery_rows, digests_for, run, seed


@pytest.fixture
def team(database: Database) -> Iterator[Harness]:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN, KENJI})))
    h.command(DANA, "/lead", "add Acme Corp")
    yield h
    h.stop()
    assert h.api.problems == [], h.api.problems


def notices(h: Harness, user: str) -> list[str]:
    return [flatten(m.blocks) for m in h.dms(user) if "Acme Corp" in flatten(m.blocks)]


def request_card(h: Harness, manager: str) -> list[str]:
    return [
        e["action_id"]
        for m in h.dms(manager)
        if "Hand-off request" in flatten(m.blocks)
        for b in m.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def outbox_rows(h: Harness) -> list[tuple[str, str]]:
    with h.db.readers.begin() as session:
        return [(r.method, r.status) for r in session.scalars(select(Outbox).order_by(Outbox.id))]


def sweep_later(h: Harness, minutes: int = 5) -> None:
    """The clock's outbox job, a few minutes on (long after any dead sender's lease ran out)."""
    h.clock.advance(minutes=minutes)
    lapse_sending(h.db)
    Courier(h.baton.deps, h.baton.client).sweep()


def test_an_approval_while_slack_fails_tells_everyone_once_when_slack_recovers(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam they know the CFO")
    card = next(m for m in team.dms(MORGAN) if "Hand-off request" in flatten(m.blocks))
    team.api.fail("chat.update", status=500, error="internal_error", times=6)  # both managers' copies
    team.api.fail("chat.postMessage", status=500, error="internal_error", times=3)  # Dana's notice
    team.api.lose_answer("chat.postMessage", how="drop")  # Sam's: posted, but the answer is lost
    team.slack.click(MORGAN, card, Action.TRANSFER_APPROVE)
    assert [n for n in notices(team, DANA) if "approved" in n] == []
    assert len(notices(team, SAM)) == 1  # it reached Sam, though Baton couldn't know
    with team.db.readers.begin() as session:
        assert session.scalars(select(Lead.owner_id)).one() == SAM  # the decision stands meanwhile

    sweep_later(team)
    assert len([n for n in notices(team, DANA) if "approved" in n]) == 1
    assert len([n for n in notices(team, SAM) if "approved" in n]) == 1  # found in Slack, not re-posted
    for manager in (MORGAN, KENJI):
        assert request_card(team, manager) == []  # every copy shows the outcome, no buttons left
    assert {status for _, status in outbox_rows(team)} == {"sent"}
    sweep_later(team, minutes=60)
    assert len(notices(team, SAM)) == 1 and len([n for n in notices(team, DANA) if "approved" in n]) == 1


def test_notices_answered_after_the_timeout_are_found_not_sent_again(database: Database) -> None:
    config = TeamConfig(manager_ids=frozenset({MORGAN}))
    h = start_harness(database, config=config, client_timeout=1)
    try:
        h.command(DANA, "/lead", "add Acme Corp")
        h.command(DANA, "/handoff", "acme @sam")
        card = next(m for m in h.dms(MORGAN) if "Hand-off request" in flatten(m.blocks))
        h.api.lose_answer("chat.postMessage", how="late", times=2)  # both notices: Dana's and Sam's
        h.slack.click(MORGAN, card, Action.TRANSFER_REJECT)
        assert [status for method, status in outbox_rows(h) if method == "post"][-2:] == ["unknown"] * 2
        sweep_later(h)
        assert len([n for n in notices(h, DANA) if "decided not to move" in n]) == 1
        assert len([n for n in notices(h, SAM) if "decided not to move" in n]) == 1
        assert len(h.api.calls_to("chat.postMessage")) == 3  # the request and the two notices, once each
    finally:
        h.stop()


def test_a_managers_channel_that_refuses_the_request_falls_back_to_each_manager(database: Database) -> None:
    config = TeamConfig(manager_ids=frozenset({MORGAN, KENJI}), manager_channel="C0MANAGERS")
    h = start_harness(database, config=config)
    try:
        h.command(DANA, "/lead", "add Acme Corp")
        h.api.fail("chat.postMessage", status=200, error="not_in_channel", retry_after=None, times=1)
        h.command(DANA, "/handoff", "acme @sam")
        assert request_card(h, MORGAN) and request_card(h, KENJI)
    finally:
        h.stop()


def test_slack_down_for_hours_gives_up_once_and_says_so_in_the_record(team: Harness) -> None:
    team.api.fail("chat.postMessage", status=500, error="internal_error", times=1000)
    team.command(DANA, "/handoff", "acme @sam")
    for _ in range(12):
        sweep_later(team, minutes=60)
    assert request_card(team, MORGAN) == []
    # The rep's own answer went through the response_url; every post is given up on.
    assert {(method, status) for method, status in outbox_rows(team)} == {
        ("post", "failed"),
        ("reply", "sent"),
    }
    with team.db.readers.begin() as session:
        errors = set(session.scalars(select(Outbox.error).where(Outbox.method == "post")))
    assert errors == {"internal_error"}


# ---- digests ---------------------------------------------------------------------------------------


def seeded(database: Database, *, client_timeout: int = 10) -> Harness:
    h = start_harness(database, client_timeout=client_timeout)
    seed(h)
    h.clock.advance(days=2)
    h.command(KENJI, "/lead", "add Initech")
    h.command(MORGAN, "/lead", "add Umbrella")
    return h


@pytest.mark.parametrize("how", ["drop", "late"])
def test_a_digest_whose_answer_is_lost_is_found_in_slack_and_never_sent_twice(
    database: Database, how: str
) -> None:
    h = seeded(database, client_timeout=1)
    try:
        h.api.lose_answer("chat.postMessage", how=how)
        run(h, MONDAY_MORNING_NY)
        assert len(digests_for(h, DANA)) == 1
        for minutes in (5, 10, 15, 60):  # the next ticks, and the outbox job between them
            run(h, MONDAY_MORNING_NY + timedelta(minutes=minutes))
            Courier(h.baton.deps, h.baton.client).sweep()
        assert len(digests_for(h, DANA)) == 1
        assert [c.args["channel"] for c in h.api.calls_to("chat.postMessage")].count(DANA) == 1
        [row] = [r for r in delivery_rows(h) if r.user_id == DANA]
        assert (row.status, row.ts) == ("sent", digests_for(h, DANA)[0].ts)
    finally:
        h.stop()


class SlowSlack(Pacer):
    """Each digest takes Slack ten minutes to accept; during the second, another clock runs."""

    def __init__(self, h: Harness, meanwhile: Callable[[], object]) -> None:
        super().__init__(60)
        self.h, self.meanwhile, self.posts = h, meanwhile, 0

    def wait(self) -> None:
        self.posts += 1
        self.h.clock.advance(minutes=10)
        if self.posts == 2:
            self.meanwhile()


def test_a_slow_run_is_never_taken_over_so_nobody_gets_two_digests(database: Database) -> None:
    h = seeded(database)
    try:
        at = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # morning in Tokyo, evening in New York
        h.clock.now = at
        second: list[RunReport] = []

        def another_clock() -> None:
            second.append(Deliveries(h.baton.deps, h.baton.client).digests(at=h.clock.now, everyone=True))

        slow = Deliveries(h.baton.deps, h.baton.client, pacer=SlowSlack(h, another_clock))
        first = slow.digests(at=at, everyone=True)
        assert h.clock.now - at >= timedelta(minutes=30)  # slower than a stale claim's 15 minutes
        assert second[0].sent == [] and second[0].skipped == second[0].due
        assert sorted(first.sent) == [DANA, KENJI, MORGAN, SAM]
        for user in (DANA, SAM, KENJI, MORGAN):
            assert len(digests_for(h, user)) == 1
    finally:
        h.stop()


def test_a_database_error_while_recording_one_digest_does_not_stop_the_others(database: Database) -> None:
    h = seeded(database)
    failures: list[str] = []

    def refuse_once(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not failures and statement.lstrip().upper().startswith("UPDATE OUTBOX") and "sent_ts" in statement:
            failures.append(statement)
            raise OperationalError(statement, params, Exception("the database went away"))

    event.listen(h.db.engine, "before_cursor_execute", refuse_once)
    try:
        at = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
        h.clock.now = at
        report = Deliveries(h.baton.deps, h.baton.client).digests(at=at, everyone=True)
        assert failures and sorted(report.sent) == [DANA, KENJI, MORGAN, SAM]  # only a record failed
        for user in (DANA, SAM, KENJI, MORGAN):
            assert len(digests_for(h, user)) == 1
        sweep_later(h)  # the lease ran out: the sweep finds the post in Slack instead of re-sending
        assert len(h.api.calls_to("chat.postMessage")) == len(report.sent)
        assert {r.status for r in delivery_rows(h)} == {"sent"}
    finally:
        event.remove(h.db.engine, "before_cursor_execute", refuse_once)
        h.stop()
