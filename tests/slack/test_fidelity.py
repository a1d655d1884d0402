"""The stand-in behaves like a real workspace where it matters: it grants only manifest.yml's
scopes, and serves conversations.history within the limits Slack sets for apps outside the
Marketplace. Every Web API method Baton's code calls (found by scanning it) is driven through it."""

import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.localslack import SlackApi, User, Workspace
from bot.localslack.scopes import MANIFEST, METHOD_SCOPES, manifest_scopes
from tests.conftest import DANA, TOKEN

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"\bclient\.([a-z]+)_([A-Za-z0-9]+(?:_v2)?)\(")
# The SDK's helpers that are several Web API calls.
HELPERS = {"files.upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}


def methods_called() -> set[str]:
    """Every Web API method Baton's own code calls (the stand-in itself aside)."""
    found: set[str] = set()
    for folder in ("bot", "handlers", "coaching", "store"):
        for path in (ROOT / folder).rglob("*.py"):
            if "localslack" in path.parts:
                continue
            for family, name in CALL.findall(path.read_text(encoding="utf-8")):
                method = f"{family}.{name}"
                found.update(HELPERS.get(method, (method,)))
    return found


@pytest.fixture
def api() -> Iterator[SlackApi]:
    workspace = Workspace(users={DANA: User(DANA, "dana")})
    stand_in = SlackApi(workspace, token=TOKEN).start()
    yield stand_in
    stand_in.stop()


def client(api: SlackApi) -> WebClient:
    return WebClient(token=TOKEN, base_url=api.url, retry_handlers=[])


def answer(call: Any) -> dict[str, Any]:
    try:
        return dict(call().data)
    except SlackApiError as error:
        return dict(error.response.data)


def drive(api: SlackApi, method: str) -> dict[str, Any]:
    """Call `method` the way Baton does, with arguments Slack would accept."""
    web = client(api)
    if method in HELPERS["files.upload_v2"]:
        return answer(
            lambda: web.files_upload_v2(
                channel="C0SALES", content=b"\x89PNG", filename="review.png", alt_txt="A chart"
            )
        )
    posted = web.chat_postMessage(channel="C0SALES", text="a post to change")
    samples: dict[str, dict[str, Any]] = {
        "auth.test": {},
        "auth.revoke": {"test": True},  # would it: the token keeps working for the rest
        "chat.postMessage": {"channel": DANA, "text": "Your digest"},
        "chat.postEphemeral": {"channel": "C0SALES", "user": DANA, "text": "Only you"},
        "chat.update": {"channel": "C0SALES", "ts": posted["ts"], "text": "changed"},
        "conversations.open": {"users": DANA},
        "conversations.history": {"channel": "D" + DANA[1:], "limit": 15},
        "users.info": {"user": DANA},
        "users.list": {"limit": 200},
        "users.lookupByEmail": {"email": "dana@example.com"},
        "views.open": {"trigger_id": f"{DANA}.1.2", "view": {"type": "modal", "blocks": []}},
        "views.publish": {"user_id": DANA, "view": {"type": "home", "blocks": []}},
    }
    assert method in samples, f"Baton calls {method}: give it sample arguments here"
    return answer(lambda: web.api_call(method, json=samples[method]))


def test_every_method_baton_calls_is_known_and_granted_by_the_manifest(api: SlackApi) -> None:
    called = methods_called()
    assert {
        "chat.postMessage",
        "conversations.history",
        "users.info",
        "files.completeUploadExternal",
    } <= called
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"write down the scope {sorted(unknown)} need in bot/localslack/scopes.py"
    for method in sorted(called):
        body = drive(api, method)
        assert body.get("error") not in ("missing_scope", "unknown_method"), (method, body)
        assert body.get("ok"), (method, body)
    assert api.problems == []


def test_a_method_without_its_scope_is_refused_as_slack_refuses_it() -> None:
    workspace = Workspace(users={DANA: User(DANA, "dana")})
    api = SlackApi(workspace, token=TOKEN, scopes={"commands", "chat:write", "im:write"}).start()
    try:
        body = answer(lambda: client(api).users_info(user=DANA))
        assert (body["ok"], body["error"], body["needed"]) == (False, "missing_scope", "users:read")
        history = answer(lambda: client(api).conversations_history(channel="D" + DANA[1:]))
        assert (history["error"], history["needed"]) == ("missing_scope", "im:history")
        assert answer(lambda: client(api).chat_postMessage(channel=DANA, text="hi"))["ok"]
        assert len(api.problems) == 2  # each refusal is a contract problem a test run reports
    finally:
        api.stop()


def test_each_scope_the_manifest_asks_for_says_why() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert manifest_scopes() == frozenset(manifest["oauth_config"]["scopes"]["bot"])  # read as YAML reads it
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    start = lines.index("    bot:")
    scope_lines = list(itertools.takewhile(lambda line: line.startswith("      - "), lines[start + 1 :]))
    assert {line.split()[1] for line in scope_lines} == manifest_scopes()
    for line in scope_lines:
        assert re.search(r" # \S.{8,}", line), f"say why Baton needs it: {line.strip()}"
    for needed in ("im:history", "channels:history", "groups:history", "files:write", "chat:write"):
        assert needed in manifest_scopes()


def test_history_gives_at_most_15_messages_and_one_call_a_minute_per_channel(api: SlackApi) -> None:
    web = client(api)
    for number in range(40):
        web.chat_postMessage(channel="C0SALES", text=f"message {number}")
    page = web.conversations_history(channel="C0SALES", limit=200)
    assert len(page["messages"]) == 15 and page["has_more"]
    assert page["messages"][0]["text"] == "message 39"  # newest first
    web.conversations_history(channel="D" + DANA[1:])  # another channel has its own minute
    with pytest.raises(SlackApiError) as refused:
        web.conversations_history(channel="C0SALES")
    assert refused.value.response.status_code == 429
    assert 50 <= int(refused.value.response.headers["Retry-After"]) <= 60
    api.clock = lambda: time.time() + 61
    middle = web.conversations_history(
        channel="C0SALES", oldest=page["messages"][-1]["ts"], latest=page["messages"][0]["ts"]
    )
    assert [m["text"] for m in middle["messages"]] == [f"message {n}" for n in range(38, 25, -1)]
