"""Slack says no for a while (429, 500) or for good: Baton waits as told, retries, and carries on."""

from sqlalchemy import select

from store.models import Rep
from tests.conftest import DANA, MORGAN, Harness, flatten


def test_a_rate_limited_post_is_retried_after_slacks_retry_after(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.api.fail("chat.postMessage", status=429, retry_after=7, times=2)
    harness.command(DANA, "/handoff", "acme @sam")
    assert any("Hand-off request" in flatten(m.blocks) for m in harness.dms(MORGAN))
    assert [int(s) for s in harness.sleeps] == [7, 7]  # waited as told, twice, without sleeping the test
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
