"""Concurrency: simultaneous changes to one lead each count, and a lead has at most one pending transfer."""

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coaching.handoff_results import HandoffRefused, Refusal, TransferAsked
from coaching.handoffs import handoff_command
from coaching.people import Profile, remember
from coaching.settings import TeamConfig
from coaching.touches import TouchLogged
from store.db import Database
from store.models import Lead, Touch, TransferRequest
from tests.conftest import DANA, KENJI, MORGAN, NOW, SAM, TEAM
from tests.store.test_leads import caller, log, run

T = TypeVar("T")


def at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(i)` on `count` threads released together."""
    results: list[T] = []
    barrier = threading.Barrier(count)

    def one(index: int) -> None:
        barrier.wait()
        results.append(work(index))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_simultaneous_touches_on_one_lead_count_twenty(database: Database) -> None:
    run(database, "add Acme Corp")
    # Twenty tries on twenty different days (tries on one day count once at the cadence), logged at once.
    results = at_once(20, lambda i: log(database, f"acme corp no-answer 2026-11-{i + 1:02d} try {i}"))
    assert all(isinstance(r, TouchLogged) for r in results)
    with database.readers.begin() as session:
        lead = session.scalars(select(Lead)).one()
        touches = session.scalar(select(func.count()).select_from(Touch))
    assert (touches, lead.attempts) == (20, 20)
    assert sorted(r.lead.attempts for r in results if isinstance(r, TouchLogged)) == list(range(1, 21))


def test_two_simultaneous_transfer_requests_leave_one_pending_and_a_kind_answer(database: Database) -> None:
    run(database, "add Acme Corp")
    with database.sessions.begin() as session:
        for user in (SAM, KENJI, MORGAN):
            remember(session, team_id=TEAM, profile=Profile(user, user.lower(), "America/New_York"), now=NOW)

    def ask(index: int) -> object:
        asker = (SAM, KENJI)[index]
        with database.sessions.begin() as session:
            who = replace(caller(asker), config=TeamConfig(manager_ids=frozenset({MORGAN})))
            return handoff_command(session, who, f"Acme Corp <@{asker}> I know them")

    results = at_once(2, ask)
    assert sorted(type(r).__name__ for r in results) == ["HandoffRefused", "TransferAsked"]
    refused = next(r for r in results if isinstance(r, HandoffRefused))
    assert refused.refusal is Refusal.PENDING
    assert any(isinstance(r, TransferAsked) for r in results)
    with database.readers.begin() as session:
        pending = select(func.count()).select_from(TransferRequest).where(TransferRequest.status == "pending")
        assert session.scalar(pending) == 1


def test_the_database_itself_refuses_a_second_pending_transfer(database: Database) -> None:
    run(database, "add Acme Corp")
    with database.sessions.begin() as session:
        lead_id = session.scalars(select(Lead.id)).one()

    def pending(to_user: str) -> TransferRequest:
        return TransferRequest(
            team_id=TEAM,
            lead_id=lead_id,
            from_owner=DANA,
            to_user=to_user,
            requested_by=to_user,
            reason="",
            status="pending",
            created_at=NOW,
        )

    with database.sessions.begin() as session:
        session.add(pending(SAM))
    with pytest.raises(IntegrityError), database.sessions.begin() as session:
        session.add(pending(KENJI))
    with database.sessions.begin() as session:  # decided requests may be many
        session.add(TransferRequest(**{**_columns(pending(KENJI)), "status": "rejected"}))


def _columns(row: TransferRequest) -> dict[str, object]:
    return {c.key: getattr(row, c.key) for c in TransferRequest.__table__.columns if c.key != "id"}
