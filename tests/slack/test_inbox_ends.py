"""Every request Baton acknowledged ends, once: a passing database error is tried again and, when
it keeps failing, the rep is told what was not done; a dead process's work is taken over in
seconds; a live process's queue is never run twice; leases are judged on the database's clock."""

import json
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError

from bot.pool import ListenerPool
from coaching.inbox import MAX_ATTEMPTS
from store.db import Database
from store.models import Inbox, Touch
from tests.conftest import DANA, NOW, TEAM, Clock, Harness, flatten, lapse_sending, start_harness


class StalledPool(ListenerPool):
    """A busy process: work queues up and runs only when `run_queued` is called."""

    def __init__(self) -> None:
        super().__init__(4)
        self.queued: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.queued.append((fn, args, kwargs))
        return Future()

    def run_queued(self) -> None:
        queued, self.queued = self.queued, []
        for fn, args, kwargs in queued:
            fn(*args, **kwargs)


def touch_notes(h: Harness) -> list[str]:
    with h.db.readers.begin() as session:
        return list(session.scalars(select(Touch.note).order_by(Touch.id)))


def kept(h: Harness) -> list[tuple[str, str | None, int]]:
    with h.db.readers.begin() as session:
        return [(r.kind, r.outcome, r.attempts) for r in session.scalars(select(Inbox).order_by(Inbox.id))]


def lapse_leases(db: Database) -> None:
    """As if every lease ran out long ago on the database's clock (a dead process stops renewing)."""
    with db.sessions.begin() as session:
        session.execute(update(Inbox).values(lease_until=datetime(2000, 1, 1, tzinfo=UTC)))


def refuse_touches(h: Harness, times: int) -> list[str]:
    """The database answers 'locked' to the next `times` inserts of a touch."""
    refused: list[str] = []

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TOUCH") and len(refused) < times:
            refused.append(statement)
            raise OperationalError(statement, None, Exception("database is locked"))

    event.listen(h.db.engine, "before_cursor_execute", refuse)
    return refused


def recover_after(h: Harness, seconds: float) -> int:
    h.clock.advance(seconds=seconds)
    resumed = h.baton.recover()
    h.baton.pool.wait_idle()
    return resumed


def test_a_passing_database_error_is_tried_again_and_the_rep_answered_once(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    refused = refuse_touches(harness, times=1)
    harness.slack.command(DANA, "/logcall", "acme vm asked for pricing")
    assert refused and touch_notes(harness) == []
    assert not [m for m in harness.api.seen_by(DANA) if "went wrong" in flatten(m.blocks)]
    assert recover_after(harness, 1) == 0  # the backoff has not run out yet
    assert recover_after(harness, 2) == 1
    assert touch_notes(harness) == ["asked for pricing"]
    answers = [m for m in harness.api.seen_by(DANA) if "asked for pricing" in flatten(m.blocks)]
    assert len(answers) == 1
    assert kept(harness)[-1] == ("command", "done", 2)


def test_a_request_that_keeps_failing_ends_as_a_dead_letter_and_the_rep_is_told(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    refuse_touches(harness, times=MAX_ATTEMPTS)
    harness.slack.command(DANA, "/logcall", "acme vm asked for the Q3 numbers")
    for _ in range(MAX_ATTEMPTS + 1):
        recover_after(harness, 60)
    assert touch_notes(harness) == []
    assert kept(harness)[-1] == ("command", "dead", MAX_ATTEMPTS)
    [told] = [m for m in harness.dms(DANA) if "couldn't do your" in flatten(m.blocks)]
    assert "/logcall" in flatten(told.blocks) and "acme vm asked for the Q3 numbers" in flatten(told.blocks)
    recover_after(harness, 60)  # a dead letter is not told twice, nor run again
    assert len([m for m in harness.dms(DANA) if "couldn't do your" in flatten(m.blocks)]) == 1


def test_recovery_never_runs_again_what_waits_in_its_own_queue(database: Database) -> None:
    pool = StalledPool()
    h = start_harness(database, pool=pool)
    try:
        h.slack.command(DANA, "/lead", "add Acme Corp")
        pool.run_queued()
        h.slack.command(DANA, "/logcall", "acme vm left a voicemail")
        h.clock.advance(minutes=10)  # however long it waits in the queue
        assert h.baton.recover() == 0
        assert len(pool.queued) == 1
        pool.run_queued()
        assert touch_notes(h) == ["left a voicemail"]
    finally:
        h.stop()


def test_leases_are_judged_on_the_databases_clock_not_a_process_own(database: Database) -> None:
    pool = StalledPool()
    busy = start_harness(database, pool=pool)
    ahead = start_harness(database, clock=Clock(NOW + timedelta(minutes=10)), api=busy.api)
    try:
        ahead.baton.recover()  # its start-up pass, before the other process took anything
        busy.slack.command(DANA, "/lead", "add Acme Corp")
        pool.run_queued()
        busy.slack.command(DANA, "/logcall", "acme vm asked for a demo")
        assert ahead.baton.recover() == 0  # a clock ten minutes fast doesn't make a live lease stale
        pool.run_queued()
        assert touch_notes(busy) == ["asked for a demo"]
    finally:
        ahead.server.stop()
        ahead.baton.pool.shutdown(wait=True)
        busy.stop()


def test_a_dead_process_work_is_taken_over_without_waiting_for_its_lease(database: Database) -> None:
    """SQLite: the one process that replaced it frees its leases at once. PostgreSQL: another
    process takes them when the lease runs out (seconds; here lapsed by hand, as nobody renewed it)."""
    pool = StalledPool()
    dead = start_harness(database, pool=pool)
    dead.slack.command(DANA, "/lead", "add Acme Corp")
    pool.run_queued()
    dead.slack.command(DANA, "/logcall", "acme vm asked about onboarding")
    dead.server.stop()  # killed with the work in its queue
    restarted = start_harness(database, clock=dead.clock, api=dead.api)
    try:
        if database.engine.dialect.name == "postgresql":
            assert restarted.baton.recover() == 0  # its lease still runs...
            lapse_leases(database)  # ...until it runs out, nobody renewing it
        assert restarted.baton.recover() == 1
        restarted.baton.pool.wait_idle()
        assert touch_notes(restarted) == ["asked about onboarding"]
        assert restarted.baton.recover() == 0
    finally:
        restarted.stop()
        dead.baton.deps.db.engine.dispose()


class Killed(BaseException):
    """The process stopped (kill -9, as seen from inside): nothing after this line ran."""


def test_a_kill_right_after_lead_won_committed_still_answers_the_rep_once(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    killed: list[str] = []

    def kill_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The first thing after the work's commit is reading or taking its answer from the outbox.
        words = statement.lstrip().upper()
        if "OUTBOX" in words and not words.startswith("INSERT") and not killed:
            killed.append(statement)
            raise Killed()

    event.listen(harness.db.engine, "before_cursor_execute", kill_once)
    try:
        harness.slack.command(DANA, "/lead", "won acme")
    finally:
        event.remove(harness.db.engine, "before_cursor_execute", kill_once)
    assert killed  # died after the commit, before the answer went out
    assert not [m for m in harness.api.seen_by(DANA) if "won" in flatten(m.blocks).lower()]
    lapse_sending(harness.db)  # the dead sender's lease runs out (seconds, on the database's clock)
    recover_after(harness, 300)  # the restarted process's outbox sweep
    recover_after(harness, 300)
    answers = [
        m
        for m in harness.api.seen_by(DANA)
        if "Acme Corp" in flatten(m.blocks) and "won" in flatten(m.blocks).lower()
    ]
    assert len(answers) == 1


def test_a_pipeline_run_again_by_another_process_is_answered_once(database: Database) -> None:
    pool = StalledPool()
    slow = start_harness(database, pool=pool)
    other = start_harness(database, clock=slow.clock, api=slow.api)
    try:
        other.baton.recover()  # its start-up pass, before the slow process took anything
        slow.slack.command(DANA, "/lead", "add Acme Corp")
        pool.run_queued()
        before = len(slow.api.seen_by(DANA))
        slow.slack.command(DANA, "/pipeline")
        lapse_leases(database)  # the slow process missed its heartbeats: presumed dead
        assert other.baton.recover() == 1
        other.baton.pool.wait_idle()
        pool.run_queued()  # ...and then the slow process gets to it after all
        [pipeline] = slow.api.seen_by(DANA)[before:]
        assert "Acme Corp" in flatten(pipeline.blocks)
    finally:
        other.server.stop()
        other.baton.pool.shutdown(wait=True)
        slow.stop()


def test_a_pile_of_requests_nothing_handles_never_starves_a_killed_logcall(database: Database) -> None:
    pool = StalledPool()
    dead = start_harness(database, pool=pool)
    dead.slack.command(DANA, "/lead", "add Acme Corp")
    pool.run_queued()
    with database.sessions.begin() as session:  # 250 older requests of a kind Baton no longer handles
        session.add_all(
            Inbox(
                key=f"event:EvOLD{i}",
                team_id=TEAM,
                user_id="",
                kind="event_callback",
                body=json.dumps(
                    {
                        "type": "event_callback",
                        "team_id": TEAM,
                        "event_id": f"EvOLD{i}",
                        "event": {"type": "x"},
                    }
                ),
                received_at=NOW - timedelta(hours=1),
                attempts=1,
                owner="a-process-long-gone",
                lease_until=datetime(2000, 1, 1, tzinfo=UTC),
            )
            for i in range(250)
        )
    dead.slack.command(DANA, "/logcall", "acme vm asked for references")
    dead.server.stop()
    restarted = start_harness(database, clock=dead.clock, api=dead.api)
    try:
        lapse_leases(database)
        for _ in range(10):
            if restarted.baton.recover() == 0:
                break
            restarted.baton.pool.wait_idle()
        assert touch_notes(restarted) == ["asked for references"]
        assert [outcome for _, outcome, _ in kept(restarted)].count("unhandled") == 250
    finally:
        restarted.stop()
        dead.baton.deps.db.engine.dispose()
