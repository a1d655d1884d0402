"""Requests Slack didn't sign are refused and change nothing; user text can't ping anyone through Baton."""

import logging
import time

import pytest
from sqlalchemy import func, select

from store.models import Lead, Touch
from tests.conftest import DANA, SECRET, TOKEN, Harness


def count(h: Harness, model: type) -> int:
    with h.db.readers.begin() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_forged_signature_is_refused_and_changes_nothing(harness: Harness) -> None:
    body = harness.slack.command_body(DANA, "/lead", "add Forged Inc")
    reply = harness.slack.send(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert reply.status == 401
    assert count(harness, Lead) == 0
    assert harness.api.calls_to("response_url") == []


def test_a_request_signed_with_another_secret_is_refused(harness: Harness) -> None:
    body = harness.slack.command_body(DANA, "/lead", "add Forged Inc")
    from slack_sdk.signature import SignatureVerifier

    stamp = str(int(time.time()))
    signature = SignatureVerifier("not-the-secret").generate_signature(timestamp=stamp, body=body)
    reply = harness.slack.send(
        body, "application/x-www-form-urlencoded", timestamp=int(stamp), signature=signature
    )
    assert reply.status == 401
    assert count(harness, Lead) == 0


def test_an_unsigned_request_is_refused(harness: Harness) -> None:
    body = harness.slack.command_body(DANA, "/lead", "add Unsigned Inc")
    reply = harness.slack.send(
        body, "application/x-www-form-urlencoded", signature="", headers={"X-Slack-Signature": ""}
    )
    assert reply.status == 401
    assert count(harness, Lead) == 0


def test_a_replayed_request_older_than_five_minutes_is_refused(harness: Harness) -> None:
    body = harness.slack.command_body(DANA, "/lead", "add Replayed Inc")
    # Correctly signed, but for a timestamp six minutes ago: a captured request sent again.
    reply = harness.slack.send(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 360)
    assert reply.status == 401
    assert count(harness, Lead) == 0


def test_a_body_changed_after_signing_is_refused(harness: Harness) -> None:
    stamp = int(time.time())
    body = harness.slack.command_body(DANA, "/lead", "add Honest Inc")
    signature = harness.slack.signer.generate_signature(timestamp=str(stamp), body=body)
    tampered = body.replace("Honest", "Tampered")
    reply = harness.slack.send(
        tampered, "application/x-www-form-urlencoded", timestamp=stamp, signature=signature
    )
    assert reply.status == 401
    assert count(harness, Lead) == 0


def test_channel_here_and_group_mentions_in_user_text_never_reach_slack(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add @channel Partners")
    reply = harness.command(
        DANA, "/logcall", "@channel Partners vm pinging @here and @everyone <!subteam^S0SALES>"
    )
    # The stand-in records any special mention Baton sends; the harness fails the test if one appears.
    assert harness.api.problems == []
    # Echoed the way it was typed, as plain text that pings nobody (never the raw `<!here>`).
    assert reply.blocks[1]["text"]["text"] == "> pinging @here and @everyone @group"
    with harness.db.readers.begin() as session:
        note = session.scalars(select(Touch.note)).one()
    assert note == "pinging <!here> and <!everyone> <!subteam^S0SALES>"  # stored as typed, escaped when shown


def test_no_token_or_signing_secret_reaches_a_log_line_even_at_debug(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        harness.command(DANA, "/logcall", "acme connected talked pricing")
        harness.command(DANA, "/pipeline")
        # What a library might log: a Web API answer carrying a freshly issued token, an error quoting one.
        logging.getLogger("slack_sdk.web.base_client").debug(
            "Received the following response - body: %s", {"ok": True, "access_token": "xoxb-17-fresh-token"}
        )
        logging.getLogger("baton").error("auth failed for %s with %s", TOKEN, SECRET)
    logged = caplog.text
    assert "Received the following response" in logged and "[redacted]" in logged
    for secret in (TOKEN, SECRET, "xoxb-17-fresh-token"):
        assert secret not in logged
