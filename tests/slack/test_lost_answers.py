"""When Slack does the work but its answer is lost: the client must not post again blindly, and the
message's own metadata is there to find it by."""

import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.localslack import SlackApi, User, Workspace
from bot.slack import make_client
from tests.conftest import DANA, TOKEN


@pytest.fixture
def api() -> Iterator[SlackApi]:
    stand_in = SlackApi(Workspace(users={DANA: User(DANA, "dana")}), token=TOKEN).start()
    yield stand_in
    stand_in.stop()
    assert stand_in.problems == []


def client_for(api: SlackApi, *, timeout: int = 10) -> WebClient:
    return make_client(TOKEN, api.url, sleep=lambda _: None, timeout=timeout)


def tagged(outbox_id: int) -> dict[str, object]:
    return {"event_type": "baton_outbox", "event_payload": {"outbox_id": outbox_id}}


def test_a_post_whose_connection_drops_is_not_posted_again(api: SlackApi) -> None:
    api.lose_answer("chat.postMessage", how="drop")
    with pytest.raises(OSError):  # urllib: the connection closed without an answer
        client_for(api).chat_postMessage(channel=DANA, text="Your digest", metadata=tagged(7))
    assert [m.text for m in api.seen_by(DANA)] == ["Your digest"]
    assert len(api.calls_to("chat.postMessage")) == 1


def test_a_post_answered_after_the_timeout_is_not_posted_again(api: SlackApi) -> None:
    api.lose_answer("chat.postMessage", how="late")
    with pytest.raises(OSError):  # urllib: timed out waiting for the answer
        client_for(api, timeout=1).chat_postMessage(channel=DANA, text="Your digest", metadata=tagged(8))
    assert [m.text for m in api.seen_by(DANA)] == ["Your digest"]
    assert len(api.calls_to("chat.postMessage")) == 1


def test_a_lookup_whose_connection_drops_is_simply_asked_again(api: SlackApi) -> None:
    api.lose_answer("users.info", how="drop")
    assert client_for(api).users_info(user=DANA)["user"]["id"] == DANA
    assert len(api.calls_to("users.info")) == 2


def test_history_returns_a_messages_metadata_only_when_asked(api: SlackApi) -> None:
    client = client_for(api)
    client.chat_postMessage(channel=DANA, text="first", metadata=tagged(1))
    client.chat_postMessage(channel=DANA, text="second")
    channel = client.conversations_open(users=DANA)["channel"]["id"]
    with_metadata = client.conversations_history(channel=channel, include_all_metadata=True)["messages"]
    assert [(m["text"], m.get("metadata")) for m in with_metadata] == [
        ("second", None),
        ("first", tagged(1)),
    ]
    api.clock = lambda: time.time() + 61  # a minute on: Slack serves a channel's history once a minute
    plain = client.conversations_history(channel=channel)["messages"]
    assert all("metadata" not in m for m in plain)
