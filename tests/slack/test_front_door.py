"""The front door: what reaches Bolt, and what is refused before it does (over real HTTP)."""

import hashlib
import hmac
import json
import logging
import selectors
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import select

from bot.front_door import MAX_BODY, FrontDoor
from bot.server import LocalServer
from store.db import answers, open_database
from store.models import Lead, Touch
from tests.conftest import DANA, SECRET, Harness, flatten


def test_a_command_whose_text_says_payload_is_logged_like_any_other(harness: Harness) -> None:
    # Bolt's own form parser takes any body containing "payload" for a button click (a 404 in Slack).
    harness.command(DANA, "/lead", "add payload systems")
    reply = harness.command(DANA, "/logcall", "payload systems email sent the payload specs to their CTO")
    assert "Logged an *email* on *payload systems*" in flatten(reply.blocks)
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead.name)).all() == ["payload systems"]
        assert session.scalars(select(Touch.note)).all() == ["sent the payload specs to their CTO"]


# ---- refused before Bolt: garbled, malformed, oversized, unsigned, no team ----------------------------

MARKER = "s3cret-body-marker"


def raw_request(h: Harness, head: str, *pieces: bytes, timeout: float = 10.0) -> int:
    """Send bytes exactly as given (headers a client library would refuse to send); return the status.

    The body goes piece by piece, and stops as soon as the server has answered: a server that
    refuses a body part-way closes the connection, and writing on would only meet a reset.
    """
    host, port = h.server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        answered = selectors.DefaultSelector()
        answered.register(connection, selectors.EVENT_READ)
        connection.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n")
        for piece in pieces:
            if answered.select(timeout=0):
                break  # answered already
            try:
                connection.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = connection.recv(65536).decode("latin-1")
    return int(answer.split(" ", 2)[1])


def no_trace_of_the_body(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        if record.name.startswith("slack_sdk.web"):
            continue  # Baton's own calls to Slack's Web API, not a request it received
        shown = record.getMessage() + (caplog.text if record.exc_info else "")
        assert MARKER not in shown, record.name
        assert "Traceback" not in shown and record.levelno < logging.ERROR, shown


@pytest.mark.parametrize("stamp", ["abc", "1.7e9", "", " ", "-5", "9" * 40])
def test_a_garbled_timestamp_is_refused_as_unsigned(
    harness: Harness, caplog: pytest.LogCaptureFixture, stamp: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = harness.slack.command_body(DANA, "/lead", f"add {MARKER}")
    reply = harness.slack.send(
        body, "application/x-www-form-urlencoded", headers={"X-Slack-Request-Timestamp": stamp}
    )
    assert reply.status == 401
    assert "Traceback" not in reply.body
    no_trace_of_the_body(caplog)
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead)).all() == []


@pytest.mark.parametrize("payload", ["not json " + MARKER, "[1, 2]", '"' + MARKER + '"', "{"])
def test_a_malformed_payload_is_a_bad_request_signed_and_unauthorised_unsigned(
    harness: Harness, caplog: pytest.LogCaptureFixture, payload: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = urlencode({"payload": payload})
    assert harness.slack.send(body, "application/x-www-form-urlencoded").status == 400
    forged = harness.slack.send(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert forged.status == 401
    no_trace_of_the_body(caplog)


def test_a_signed_body_that_is_not_utf8_is_a_bad_request(harness: Harness) -> None:
    body = b"command=%2Flead&text=\xff\xfe" + MARKER.encode()
    stamp = str(int(time.time()))
    signature = harness.slack.signer.generate_signature(timestamp=stamp, body=body.decode("latin-1"))
    # The stand-in's signer reads text; sign the exact bytes as Slack would.
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    assert signature != f"v0={digest}"
    head = (
        "POST /slack/events HTTP/1.1\nHost: baton\nContent-Type: application/x-www-form-urlencoded\n"
        f"Content-Length: {len(body)}\nX-Slack-Request-Timestamp: {stamp}\nX-Slack-Signature: v0={digest}\n"
        "Connection: close\n"
    )
    assert raw_request(harness, head, body) == 400


def test_a_request_naming_no_team_is_refused(harness: Harness) -> None:
    fields = dict(parse_qsl(harness.slack.command_body(DANA, "/lead", "add Teamless Inc")))
    del fields["team_id"]
    reply = harness.slack.send(urlencode(fields), "application/x-www-form-urlencoded")
    assert reply.status == 400
    harness.baton.pool.wait_idle()
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead)).all() == []


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(harness: Harness) -> None:
    # 100 MB announced, not one byte of it sent: the answer comes at once, nothing is read.
    head = (
        "POST /slack/events HTTP/1.1\nHost: baton\nContent-Type: application/x-www-form-urlencoded\n"
        f"Content-Length: {100 * 1024 * 1024}\nX-Slack-Request-Timestamp: {int(time.time())}\n"
        "X-Slack-Signature: v0=00\n"
    )
    # Had the server waited for the body, this would time out instead of answering.
    assert raw_request(harness, head) == 413


def test_a_chunked_body_is_read_up_to_the_limit_and_no_further(harness: Harness) -> None:
    head = (
        "POST /slack/events HTTP/1.1\nHost: baton\nContent-Type: application/x-www-form-urlencoded\n"
        f"Transfer-Encoding: chunked\nX-Slack-Request-Timestamp: {int(time.time())}\nX-Slack-Signature: v0=00\n"
    )
    chunk = b"a" * 65536
    pieces = [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * (MAX_BODY // len(chunk) + 2) + [b"0\r\n\r\n"]
    assert raw_request(harness, head, *pieces) == 413


def test_a_signed_chunked_command_is_read_whole(harness: Harness) -> None:
    body = harness.slack.command_body(DANA, "/lead", "add Chunked Inc").encode()
    stamp = str(int(time.time()))
    signature = harness.slack.signer.generate_signature(timestamp=stamp, body=body.decode())
    head = (
        "POST /slack/events HTTP/1.1\nHost: baton\nContent-Type: application/x-www-form-urlencoded\n"
        f"Transfer-Encoding: chunked\nX-Slack-Request-Timestamp: {stamp}\nX-Slack-Signature: {signature}\n"
        "Connection: close\n"
    )
    half = len(body) // 2
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:])) + b"0\r\n\r\n"
    )
    assert raw_request(harness, head, chunked) == 200
    harness.baton.pool.wait_idle()
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead.name)).all() == ["Chunked Inc"]


def test_no_request_body_reaches_the_log_even_at_debug(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness.command(DANA, "/lead", "add Acme Corp")
    caplog.clear()
    body = harness.slack.command_body(DANA, "/logcall", f"Acme Corp vm {MARKER}")
    assert (
        harness.slack.send(body, "application/x-www-form-urlencoded", signature="v0=" + "1" * 64).status
        == 401
    )
    stale = int(time.time()) - 3600
    assert harness.slack.send(body, "application/x-www-form-urlencoded", timestamp=stale).status == 401
    assert harness.slack.send(body, "application/x-www-form-urlencoded").status == 200
    no_trace_of_the_body(caplog)


# ---- /healthz -----------------------------------------------------------------------------------------


def test_healthz_says_ok_while_the_database_answers_and_503_when_it_does_not(harness: Harness) -> None:
    with urllib.request.urlopen(harness.server.url + "/healthz", timeout=5) as response:
        assert (response.status, json.loads(response.read())) == (200, {"ok": True})
    unreachable = open_database("postgresql://baton@127.0.0.1:9/nowhere", pool_size=1)
    door = FrontDoor(harness.baton.app, signing_secret=SECRET, healthy=lambda: answers(unreachable))
    server = LocalServer(door).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(server.url + "/healthz", timeout=5)
        assert failed.value.code == 503
    finally:
        server.stop()
        unreachable.engine.dispose()


# ---- idle and slow clients --------------------------------------------------------------------------


def test_forty_idle_connections_do_not_keep_commands_or_healthz_waiting(harness: Harness) -> None:
    for index in range(10):
        harness.command(DANA, "/lead", f"add Lead {index}")
    host, port = harness.server.url.removeprefix("http://").split(":")
    idle: list[socket.socket] = []
    try:
        for index in range(40):
            connection = socket.create_connection((host, int(port)), timeout=5)
            if index % 2:  # half send nothing; half send headers and never the body they announce
                connection.sendall(
                    b"POST /slack/events HTTP/1.1\r\nHost: baton\r\nContent-Length: 500\r\n\r\nabc"
                )
            idle.append(connection)
        bodies = [harness.slack.command_body(DANA, "/logcall", f"Lead {i} vm idle {i}") for i in range(10)]
        with ThreadPoolExecutor(max_workers=10) as pool:
            replies = list(
                pool.map(lambda b: harness.slack.send(b, "application/x-www-form-urlencoded"), bodies)
            )
        started = time.perf_counter()
        with urllib.request.urlopen(harness.server.url + "/healthz", timeout=5) as response:
            assert response.status == 200
        assert time.perf_counter() - started < 3.0  # it hung for 15 s behind gunicorn's threads
    finally:
        for connection in idle:
            connection.close()
    assert [r.status for r in replies] == [200] * 10
    assert max(r.seconds for r in replies) < 3.0
    with harness.db.readers.begin() as session:
        assert len(session.scalars(select(Touch)).all()) == 10
