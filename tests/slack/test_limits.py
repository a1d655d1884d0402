"""Limits: nothing on the request thread waits past Slack's 3 seconds, and the pool fits a budget."""

import time

import pytest
from sqlalchemy import text

from handlers.blocks.ids import Action
from tests.conftest import DANA, Harness


def test_the_lead_picker_answers_in_time_when_the_database_is_stuck(harness: Harness) -> None:
    if harness.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite readers never wait on a lock (WAL): nothing can hold the picker up")
    harness.command(DANA, "/lead", "add Acme Corp")
    view = harness.modal(DANA, "/logcall")
    with harness.db.engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE lead IN ACCESS EXCLUSIVE MODE"))  # e.g. a migration running
        started = time.perf_counter()
        reply, options = harness.slack.suggest(DANA, view, Action.LEAD_SEARCH, "acm")
        seconds = time.perf_counter() - started
        blocker.rollback()
    assert reply.status == 200
    assert seconds < 3.0
    assert [o["text"]["text"] for o in options] == ["The database is slow right now: try again"]
    _, options = harness.slack.suggest(DANA, view, Action.LEAD_SEARCH, "acm")
    assert [o["text"]["text"] for o in options] == ["Acme Corp"]
