"""Slack says no for a while (429, 500) or for good: Baton waits as told, retries, and carries on."""

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from handlers.courier import Courier
from store.models import Rep, Touch
from tests.conftest import DANA, MORGAN, Harness, flatten


def test_a_rate_limited_post_is_retried_after_slacks_retry_after(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.api.fail("chat.postMessage", status=429, retry_after=7, times=2)
    harness.command(DANA, "/handoff", "acme @sam")
    # The outbox owns rate limits: nothing sleeps in the request; the row is due when Slack said.
    assert harness.sleeps == []
    Courier(harness.baton.deps, harness.baton.client).sweep()  # too early: Slack said 7 seconds
    assert not any("Hand-off request" in flatten(m.blocks) for m in harness.dms(MORGAN))
    for _ in range(2):
        harness.clock.advance(seconds=8)
        Courier(harness.baton.deps, harness.baton.client).sweep()
    assert any("Hand-off request" in flatten(m.blocks) for m in harness.dms(MORGAN))
    assert [c.status for c in harness.api.calls_to("chat.postMessage")] == [429, 429, 200]


def test_a_server_error_is_retried_with_a_short_back_off(harness: Harness) -> None:
    harness.api.fail("users.info", status=500, error="internal_error", times=1)
    reply = harness.command(DANA, "/lead", "add Acme Corp")
    assert "Added *Acme Corp*" in flatten(reply.blocks)
    assert len(harness.sleeps) == 1 and harness.sleeps[0] < 5
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Rep.tz).where(Rep.user_id == DANA)).one() == "America/New_York"


def test_when_slack_cant_say_who_someone_is_baton_still_answers_in_utc(harness: Harness) -> None:
    harness.api.fail("users.info", status=200, error="user_not_found", retry_after=None, times=1)
    reply = harness.command(DANA, "/lead", "add Acme Corp")
    assert "Added *Acme Corp*" in flatten(reply.blocks)
    with harness.db.readers.begin() as session:
        assert (
            session.scalars(select(Rep)).all() == []
        )  # nothing wrong was remembered; Baton asks again next time
    harness.command(DANA, "/lead", "show acme")
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Rep.tz)).one() == "America/New_York"


def test_when_slack_cant_be_asked_a_reps_last_known_time_zone_still_decides_yesterday(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")  # Baton learns Dana is in New York
    # Tuesday 21:00 in New York, already Wednesday in UTC; Dana's profile is a day old, so Baton
    # asks Slack again, and Slack keeps failing (500, then both retries).
    harness.clock.now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    harness.api.fail("users.info", status=500, error="internal_error", times=3)
    with caplog.at_level(logging.WARNING, logger="handlers.directory"):
        reply = harness.command(DANA, "/logcall", "acme email yesterday sent the deck")
    assert len(harness.api.calls_to("users.info")) == 1 + 3
    assert "(yesterday)" in harness.seen_text(reply)
    with harness.db.readers.begin() as session:
        touch = session.scalars(select(Touch)).one()
    # Monday in New York (noon there), not the UTC "yesterday", Tuesday.
    assert touch.at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert "last known time zone, America/New_York" in caplog.text
