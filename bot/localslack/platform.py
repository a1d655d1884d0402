"""Slack's side of the conversation: what a person does in Slack, sent to the app as signed HTTP requests.

Payloads are built the way Slack builds them (slash-command forms, `block_actions` with the message,
`container` and `response_url`, `view_submission` with the view's state, `block_suggestion`,
Events API envelopes), signed with the signing secret, and posted to the app's /slack/events. After
each request `settle()` waits until the app's listeners have finished, so what the person sees
next is complete.
"""

import itertools
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.localslack.api import Shown, SlackApi, User, Workspace, iter_elements


@dataclass(frozen=True)
class Reply:
    """The app's HTTP answer to one request."""

    status: int
    body: str
    seconds: float

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body.strip().startswith("{") else {}


class Platform:
    def __init__(
        self,
        api: SlackApi,
        app_url: str,
        signing_secret: str,
        *,
        settle: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.time,
        workspace: Workspace | None = None,
    ) -> None:
        """`workspace`: the one its people are in (the stand-in's home workspace by default)."""
        self.api = api
        self.workspace = workspace or api.home
        self.events_url = app_url.rstrip("/") + "/slack/events"
        self.signer = SignatureVerifier(signing_secret)
        self.settle = settle or (lambda: None)
        self.clock = clock
        self._ids = itertools.count(1)

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    # ---- sending --------------------------------------------------------------------------------
    def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """POST one request to the app, signed like Slack signs it (unless told otherwise)."""
        stamp = str(int(self.clock()) if timestamp is None else timestamp)
        all_headers: dict[str, str] = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or str(self.signer.generate_signature(timestamp=stamp, body=body)),
            **(headers or {}),
        }
        request = urllib.request.Request(
            self.events_url, data=body.encode(), headers=all_headers, method="POST"
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                reply = Reply(response.status, response.read().decode(), time.perf_counter() - started)
        except urllib.error.HTTPError as error:
            reply = Reply(error.code, error.read().decode(), time.perf_counter() - started)
        self.settle()
        return reply

    def _form(self, fields: dict[str, Any]) -> Reply:
        return self.send(urlencode(fields), "application/x-www-form-urlencoded")

    def _interaction(self, payload: dict[str, Any]) -> Reply:
        return self._form({"payload": json.dumps(payload)})

    def trigger_id(self, user_id: str) -> str:
        return f"{user_id}.{next(self._ids)}.{int(self.clock())}"

    # ---- what a person does ---------------------------------------------------------------------
    def command_body(self, user_id: str, command: str, text: str, channel_id: str = "C0GENERAL") -> str:
        user = self.workspace.users.get(user_id)
        fields = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "demo",
            "channel_id": channel_id,
            "channel_name": self.workspace.channels.get(channel_id, "directmessage"),
            "user_id": user_id,
            "user_name": user.name if user else "someone",
            "command": command,
            "text": slack_escape(text, self.workspace.users.values(), self.workspace.channels),
            "api_app_id": "A0BATON",
            "is_enterprise_install": "false",
            "response_url": self.api.response_url(user_id, channel_id),
            "trigger_id": self.trigger_id(user_id),
        }
        return urlencode(fields)

    def command(self, user_id: str, command: str, text: str = "", *, channel_id: str = "C0GENERAL") -> Reply:
        """`/command text`, typed by `user_id` in `channel_id` (Slack escapes &, < and > first)."""
        return self.send(
            self.command_body(user_id, command, text, channel_id), "application/x-www-form-urlencoded"
        )

    def click(
        self,
        user_id: str,
        message: Shown,
        action_id: str,
        *,
        value: str | None = None,
        option_value: str | None = None,
        block_id: str | None = None,
        selected_user: str | None = None,
    ) -> Reply:
        """Press a button, pick an overflow option, or pick a person in a user picker on a message."""
        block, element = find_element(message.blocks, action_id, value, block_id)
        action: dict[str, Any] = {
            "action_id": element["action_id"],
            "block_id": block.get("block_id", "b"),
            "type": element["type"],
            "action_ts": f"{self.clock():.6f}",
        }
        if element["type"] == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
        elif element["type"] == "overflow":
            chosen = next(o for o in element["options"] if option_value in (None, o["value"]))
            action["selected_option"] = chosen
        elif element["type"] == "users_select":
            action["selected_user"] = selected_user
        return self._interaction(self.block_actions(user_id, message, [action]))

    def block_actions(self, user_id: str, message: Shown, actions: list[dict[str, Any]]) -> dict[str, Any]:
        user = self.workspace.users.get(user_id)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user.name if user else "someone", "team_id": self.team_id},
            "api_app_id": "A0BATON",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts or f"{self.clock():.6f}",
                "channel_id": message.channel,
                "is_ephemeral": message.ephemeral,
            },
            "trigger_id": self.trigger_id(user_id),
            "team": {"id": self.team_id, "domain": "demo"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {
                "id": message.channel,
                "name": self.workspace.channels.get(message.channel, "dm"),
            },
            "state": {"values": {}},
            "response_url": self.api.response_url(user_id, message.channel, message.id),
            "actions": actions,
        }
        if not message.ephemeral:
            # Slack includes the message for ordinary posts, not for ephemeral ones.
            payload["message"] = {
                "type": "message",
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
            }
        return payload

    def home_click(
        self,
        user_id: str,
        action_id: str,
        *,
        value: str | None = None,
        option_value: str | None = None,
        block_id: str | None = None,
        selected_user: str | None = None,
    ) -> Reply:
        """Press a button (or pick a person) on the person's App Home tab."""
        view = self.api.views[f"VHOME{user_id}"]
        block, element = find_element(view.get("blocks") or [], action_id, value, block_id)
        action: dict[str, Any] = {
            "action_id": element["action_id"],
            "block_id": block.get("block_id", "b"),
            "type": element["type"],
            "action_ts": f"{self.clock():.6f}",
        }
        if "value" in element:
            action["value"] = element["value"]
        if element["type"] in ("overflow", "static_select"):
            options = element.get("options") or []
            action["selected_option"] = next(o for o in options if option_value in (None, o["value"]))
        if element["type"] == "users_select":
            action["selected_user"] = selected_user
        payload = {
            "type": "block_actions",
            "user": {"id": user_id, "team_id": self.team_id},
            "api_app_id": "A0BATON",
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self.trigger_id(user_id),
            "team": {"id": self.team_id, "domain": "demo"},
            "view": view,
            "actions": [action],
        }
        return self._interaction(payload)

    def open_modal(self, user_id: str) -> dict[str, Any] | None:
        stack = self.api.open_modals.get(user_id) or []
        return self.api.views[stack[-1]] if stack else None

    def suggest(
        self, user_id: str, view: dict[str, Any], action_id: str, typed: str
    ) -> tuple[Reply, list[dict[str, Any]]]:
        """Type into an external select: Slack asks the app for options."""
        block = next(b for b in view["blocks"] if (b.get("element") or {}).get("action_id") == action_id)
        payload = {
            "type": "block_suggestion",
            "user": {"id": user_id, "team_id": self.team_id},
            "container": {"type": "view", "view_id": view["id"]},
            "api_app_id": "A0BATON",
            "token": "legacy-verification-token",
            "action_id": action_id,
            "block_id": block["block_id"],
            "value": typed,
            "team": {"id": self.team_id, "domain": "demo"},
            "view": view,
        }
        reply = self._interaction(payload)
        return reply, list(reply.json.get("options") or [])

    def submit(self, user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> Reply:
        """Submit a modal. `values` is `{block_id: {action_id: state}}` as in Slack's `view.state.values`."""
        submitted = {**view, "state": {"values": values}}
        submitted.pop("user_id", None)
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "demo"},
            "user": {"id": user_id, "team_id": self.team_id},
            "api_app_id": "A0BATON",
            "token": "legacy-verification-token",
            "trigger_id": self.trigger_id(user_id),
            "view": submitted,
            "response_urls": [],
        }
        reply = self._interaction(payload)
        answer = reply.json
        action = answer.get("response_action")
        if reply.status != 200:
            return reply
        stack = self.api.open_modals.get(user_id) or []
        if action == "clear":
            stack.clear()
        elif action == "update" and isinstance(answer.get("view"), dict):
            # Slack swaps the view in place: same id, the new content; the modal stays open.
            self.api.replace_view(view["id"], answer["view"])
        elif action == "push" and isinstance(answer.get("view"), dict):
            self.api.push_view(user_id, answer["view"])
        elif action is None and view["id"] in stack:
            stack.remove(view["id"])
        return reply

    def close_modal(self, user_id: str) -> None:
        """The person closes the top modal (Cancel, Done, or the close box)."""
        stack = self.api.open_modals.get(user_id) or []
        if stack:
            stack.pop()

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> Reply:
        """Deliver an Events API event (a retry carries the same event_id and X-Slack-Retry-Num)."""
        envelope = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0BATON",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(self.clock()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": self.workspace.bot_user_id, "is_bot": True}
            ],
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.send(json.dumps(envelope), "application/json", headers=headers)


def slack_escape(text: str, users: Iterable[User] = (), channels: Mapping[str, str] | None = None) -> str:
    """What Slack does to command text with `should_escape: true`.

    `&`, `<` and `>` arrive as entities; `@jane` becomes `<@U123|jane>`, `#sales` becomes
    `<#C123|sales>` (for channels Slack knows; an unknown name stays as typed), and `@channel`,
    `@here` and `@everyone` become `<!channel>` and friends: the forms a bot must never echo back.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    by_name = {user.name.casefold(): user for user in users}
    channel_ids = {name.casefold(): channel_id for channel_id, name in (channels or {}).items()}

    def channel(match: re.Match[str]) -> str:
        found = channel_ids.get(match.group(1).casefold())
        return f"<#{found}|{match.group(1)}>" if found else match.group(0)

    def link(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.casefold() in ("channel", "here", "everyone"):
            return f"<!{name.casefold()}>"
        user = by_name.get(name.casefold())
        return f"<@{user.id}|{user.name}>" if user else match.group(0)

    escaped = re.sub(r"(?<![\w&#<])#([\w][\w.-]*)", channel, escaped)
    return re.sub(r"(?<![\w@])@([\w][\w.-]*)", link, escaped)


def find_element(
    blocks: list[dict[str, Any]], action_id: str, value: str | None = None, block_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    for block, element in iter_elements(blocks):
        if element.get("action_id") != action_id or block_id not in (None, block.get("block_id")):
            continue
        if value is None or element.get("value") == value:
            return block, element
    raise LookupError(f"no element {action_id!r} (value {value!r}) in the message")
