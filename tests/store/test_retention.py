"""Finished work is pruned after its keeping time, a short batch at a time, by every web process's
recovery pass; dead letters are kept longer; what is still owed is never touched."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import ConfigError, load_settings
from bot.retention import Tidy
from coaching.retention import Retention
from coaching.workspaces import uninstall
from store.db import Database
from store.models import Delivery, Inbox, Lead, OpsHandoff, Outbox, Touch, TransferRequest
from store.retention import counts
from tests.conftest import DANA, MORGAN, NOW, SAM, TEAM, Clock, Harness
from tests.test_entry_points import baton

KEEP = Retention(done_days=7, dead_days=30)


def inbox(key: str, *, days_ago: float, outcome: str | None) -> Inbox:
    at = NOW - timedelta(days=days_ago)
    done = at if outcome else None
    return Inbox(
        key=key,
        team_id="T1",
        user_id=DANA,
        kind="command",
        body="{}",
        received_at=at,
        done_at=done,
        outcome=outcome,
    )


def outbox(payload: str, *, days_ago: float, status: str) -> Outbox:
    at = NOW - timedelta(days=days_ago)
    finished = at if status in ("sent", "failed", "cancelled") else None
    return Outbox(
        team_id="T1",
        method="post",
        channel=DANA,
        payload=payload,
        status=status,
        next_attempt_at=at,
        created_at=at,
        finished_at=finished,
    )


def delivery(day: int, *, status: str) -> Delivery:
    at = NOW - timedelta(days=day)
    finished = None if status == "claimed" else at
    return Delivery(
        team_id="T1",
        user_id=DANA,
        kind="digest",
        local_date=at.date(),
        status=status,
        claimed_at=at,
        finished_at=finished,
    )


def seed(database: Database) -> None:
    with database.sessions.begin() as session:
        session.add_all(
            [
                inbox("old-done", days_ago=8, outcome="done"),
                inbox("new-done", days_ago=1, outcome="done"),
                inbox("old-failed", days_ago=8, outcome="failed"),
                inbox("ancient-abandoned", days_ago=31, outcome="abandoned"),
                inbox("old-waiting", days_ago=8, outcome=None),
                outbox("old-sent", days_ago=8, status="sent"),
                outbox("new-sent", days_ago=1, status="sent"),
                outbox("old-failed", days_ago=8, status="failed"),
                outbox("ancient-failed", days_ago=31, status="failed"),
                outbox("old-pending", days_ago=8, status="pending"),
                outbox("old-unknown", days_ago=8, status="unknown"),
                delivery(8, status="sent"),
                delivery(9, status="empty"),
                delivery(1, status="sent"),
                delivery(10, status="failed"),
                delivery(0, status="claimed"),
            ]
        )


def test_finished_work_goes_after_its_keeping_time_dead_letters_later_and_owed_work_never(
    database: Database,
) -> None:
    seed(database)
    pruned = Tidy(database, Clock(), KEEP).run()
    assert pruned == 6
    with database.readers.begin() as session:
        assert set(session.scalars(select(Inbox.key))) == {"new-done", "old-failed", "old-waiting"}
        assert set(session.scalars(select(Outbox.payload))) == {
            "new-sent",
            "old-failed",
            "old-pending",
            "old-unknown",
        }
        assert sorted(session.scalars(select(Delivery.status))) == ["claimed", "failed", "sent"]
        held = counts(session)
    assert (
        held.inbox_waiting,
        held.inbox_dead,
        held.outbox_pending,
        held.outbox_unknown,
        held.outbox_dead,
    ) == (
        1,
        1,
        1,
        1,
        1,
    )


def test_a_backlog_is_pruned_in_small_transactions(database: Database) -> None:
    with database.sessions.begin() as session:
        session.add_all(inbox(f"done-{i}", days_ago=8, outcome="done") for i in range(25))
    tidy = Tidy(database, Clock(), KEEP, batch=10)
    assert tidy.run(most_batches=2) == 20  # (with the batch size below) a run stops; the next goes on
    assert tidy.run() > 0
    with database.readers.begin() as session:
        assert session.scalars(select(Inbox)).all() == []


def test_every_web_process_prunes_as_it_recovers(harness: Harness) -> None:
    harness.command(DANA, "/pipeline")
    with harness.db.readers.begin() as session:
        assert len(session.scalars(select(Inbox)).all()) == 1
    harness.clock.advance(days=8)
    harness.baton.recover()  # what each web process does every 15 seconds
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Inbox)).all() == []


def test_db_status_shows_what_is_waiting_unknown_and_dead(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    assert baton("db", "upgrade", cwd=tmp_path, DATABASE_URL=url).returncode == 0
    from store.db import open_database

    db = open_database(url, pool_size=1)
    try:
        seed(db)
        with db.sessions.begin() as session:
            uninstall(session, team_id="T0GONE", now=NOW, grace=timedelta(days=30), reason="app_uninstalled")
    finally:
        db.engine.dispose()
    shown = baton("db", "status", cwd=tmp_path, DATABASE_URL=url, BATON_KEEP_DONE_DAYS="14")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "inbox       waiting 1 · dead 2 · done 2"
    assert lines[1] == "outbox      pending 1 · unknown 1 · dead 2 · sent 2"
    assert lines[2] == "deliveries  under way 1 · dead 1 · done 3"
    assert "kept 14 days, dead letters 30" in lines[3]
    assert lines[4] == (
        "Workspace T0GONE uninstalled Baton on 2026-11-23: its data is deleted after 2026-12-23 15:00 UTC "
        "unless it installs Baton again."
    )


def test_a_touchs_note_is_blanked_after_its_keeping_time_and_the_touch_stays(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/logcall", "acme vm asked about pricing for 40 seats")
    harness.clock.advance(days=300)
    harness.command(DANA, "/logcall", "acme connected they signed the pilot")
    keep = Retention(notes_days=365)
    tidy = Tidy(harness.db, harness.clock, keep, batch=1)

    harness.clock.advance(days=64)  # the first note is 364 days old: kept
    assert tidy.tidy().blanked == 0
    harness.clock.advance(days=2)
    done = tidy.tidy()
    assert done.blanked == 1
    with harness.db.readers.begin() as session:
        touches = session.execute(select(Touch.outcome, Touch.note).order_by(Touch.at)).all()
    assert [tuple(t) for t in touches] == [("voicemail", ""), ("connected", "they signed the pilot")]
    assert tidy.tidy().blanked == 0  # nothing left to blank: the next runs find nothing
    shown = harness.seen_text(harness.command(DANA, "/lead", "show acme"))
    assert "they signed the pilot" in shown and "pricing" not in shown


def test_decided_transfer_reasons_and_ops_notes_are_blanked_after_the_notes_keeping_time(
    harness: Harness,
) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    now = harness.clock()
    with harness.db.sessions.begin() as session:
        lead = session.scalars(select(Lead.id)).one()
        asked = {"team_id": TEAM, "lead_id": lead, "from_owner": DANA, "to_user": SAM, "requested_by": DANA}
        session.add_all(
            [
                TransferRequest(
                    **asked,
                    reason="they know the CFO",
                    status="rejected",
                    decided_by=MORGAN,
                    decided_at=now,
                    decision_note="keep it, Dana",
                    created_at=now,
                ),
                TransferRequest(**asked, reason="still waiting", created_at=now),
                OpsHandoff(
                    team_id=TEAM,
                    lead_id=lead,
                    rep_id=DANA,
                    sold="40 seats",
                    timeline="Q1",
                    notes="the CFO is difficult",
                    created_at=now,
                ),
            ]
        )
    tidy = Tidy(harness.db, harness.clock, Retention(notes_days=365), batch=1)
    harness.clock.advance(days=364)
    assert tidy.tidy().blanked == 0
    harness.clock.advance(days=2)
    assert tidy.tidy().blanked == 2
    with harness.db.readers.begin() as session:
        requests = session.execute(
            select(TransferRequest.status, TransferRequest.reason, TransferRequest.decision_note).order_by(
                TransferRequest.id
            )
        ).all()
        ops = session.execute(select(OpsHandoff.sold, OpsHandoff.timeline, OpsHandoff.notes)).one()
    # The decision stays; a request still pending keeps its reason for the manager who must read it.
    assert [tuple(r) for r in requests] == [("rejected", "", None), ("pending", "still waiting", None)]
    assert tuple(ops) == ("40 seats", "Q1", "")


def test_notes_are_kept_at_least_a_month() -> None:
    assert Retention(notes_days=29).problems() == ["touches' notes must be kept at least 30 days, got 29"]


def test_the_keeping_times_come_from_the_environment_and_a_short_one_is_refused() -> None:
    keep = load_settings({"BATON_KEEP_NOTES_DAYS": "90", "BATON_UNINSTALL_GRACE_DAYS": "7"}).retention
    assert (keep.notes_days, keep.uninstall_grace_days) == (90, 7)
    assert (Retention().notes_days, Retention().uninstall_grace_days) == (365, 30)
    with pytest.raises(ConfigError) as refused:
        load_settings({"BATON_KEEP_NOTES_DAYS": "10", "BATON_UNINSTALL_GRACE_DAYS": "0"})
    assert "touches' notes must be kept at least 30 days, got 10" in str(refused.value)
    assert "BATON_UNINSTALL_GRACE_DAYS must be a whole number of days of at least 1, got '0'" in str(
        refused.value
    )
