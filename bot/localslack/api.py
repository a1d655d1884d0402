"""A stand-in for Slack's Web API on 127.0.0.1, for the try-out and the tests.

It answers the methods Baton calls with bodies shaped like Slack's, records every call, can be told
to fail (429 with Retry-After, 500, an error body) or to lose its answer after doing the work (drop
the connection, or answer after the client gave up), keeps message metadata and returns it from
`conversations.history`, and checks Baton keeps Slack's contract: a text fallback beside blocks,
block counts within limits, no `<!channel>`-style mentions, triggers used once. Every message it
accepts lands in a per-person view of "what this person sees".

Longer than most modules: it mirrors Slack's Web API method by method, with the checks Slack
makes (limits, fallback text, triggers), so a test reads it like Slack's own reference.
"""

import contextlib
import itertools
import json
import re
import select
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
SPECIAL_MENTION = re.compile(r"<!(channel|here|everyone|subteam\^[^>]*)(\|[^>]*)?>")


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    tz: str = "America/New_York"
    email: str = ""
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False

    def to_slack(self, team_id: str) -> dict[str, Any]:
        offset = 0
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name or self.name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "tz": self.tz,
            "tz_offset": offset,
            "profile": {
                "display_name": self.name,
                "real_name": self.real_name or self.name,
                "email": self.email or f"{self.name.lower()}@example.com",
            },
        }


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class Shown:
    """One message as a person sees it. `replace_original` and `chat.update` change it in place."""

    id: int
    user_id: str | None  # None: visible to everyone in the channel
    channel: str
    ts: str | None  # None for ephemeral messages
    text: str
    blocks: list[dict[str, Any]]
    ephemeral: bool
    source: str  # "response_url", "chat.postMessage", "chat.postEphemeral"
    version: int = 1
    metadata: dict[str, Any] | None = None  # chat.postMessage's `metadata`, as Slack keeps it
    files: list[str] = field(default_factory=list)  # ids of files shared here (files.completeUploadExternal)


@dataclass
class UploadedFile:
    """A file given to the stand-in with files_upload_v2, and where it was shared."""

    id: str
    filename: str
    length: int
    alt_txt: str
    data: bytes = b""
    title: str = ""
    channels: list[str] = field(default_factory=list)
    saved_to: Path | None = None  # the try-out keeps uploads on disk so a person can open them


@dataclass
class Fault:
    method: str
    status: int
    error: str
    retry_after: int | None
    times: int


@dataclass
class LostAnswer:
    """Slack did the work but its answer never arrived: "drop" closes the connection after
    posting; "late" answers only after the client has given up waiting."""

    method: str
    how: str  # "drop" | "late"
    times: int


@dataclass
class _ResponseTarget:
    user_id: str
    channel: str
    message_id: int | None  # the message a click came from: replace_original acts on it


@dataclass
class Workspace:
    team_id: str = "T0DEMO"
    team_name: str = "Demo Team"
    bot_user_id: str = "UBATON0"
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=lambda: {"C0GENERAL": "general", "C0SALES": "sales"})
    # channels Baton isn't a member of: ephemeral posts there fail like Slack's do
    closed_channels: set[str] = field(default_factory=set)

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id[1:]


class SlackApi:
    """The Web API stand-in. `start()` it, point `WebClient(base_url=api.url)` at it, read `calls`."""

    def __init__(
        self, workspace: Workspace | None = None, *, token: str | None = None, files_dir: Path | None = None
    ) -> None:
        self.workspace = workspace or Workspace()
        self.token = token
        self.files: dict[str, UploadedFile] = {}  # files_upload_v2's uploads, by file id
        self.files_dir = files_dir  # when set, each shared file is written here too
        self.calls: list[Call] = []
        self.problems: list[str] = []  # contract violations Baton committed
        self.shown: list[Shown] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view (modals and App Home)
        self.open_modals: dict[str, list[str]] = {}  # user id -> stack of modal view ids
        self._faults: list[Fault] = []
        self._lost: list[LostAnswer] = []
        self._targets: dict[str, _ResponseTarget] = {}
        self._used_triggers: set[str] = set()
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval lets stop() return quickly (the default waits up to half a second).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-api-standin",
            daemon=True,
        )

    # ---- lifecycle -----------------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The `base_url` for `WebClient`."""
        return self.base + "/api/"

    def start(self) -> "SlackApi":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- test controls -------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail the way Slack fails."""
        with self._lock:
            self._faults.append(Fault(method, status, error, retry_after if status == 429 else None, times))

    def lose_answer(self, method: str, *, how: str = "drop", times: int = 1) -> None:
        """Do the next `times` calls of `method`, then lose the answer: "drop" the connection at
        once, or answer "late" (once the client has hung up), as a lost packet or a slow Slack would."""
        if how not in ("drop", "late"):
            raise ValueError(f"how must be 'drop' or 'late', not {how!r}")
        with self._lock:
            self._lost.append(LostAnswer(method, how, times))

    def _losing(self, method: str) -> str | None:
        with self._lock:
            lost = next((x for x in self._lost if x.method == method and x.times > 0), None)
            if lost is None:
                return None
            lost.times -= 1
            return lost.how

    def add_user(self, user: User) -> None:
        self.workspace.users[user.id] = user

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> bool:
        """Wait until `count` calls of `method` have arrived (for an app in another process)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.calls_to(method)) >= count, timeout=timeout)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def response_url(self, user_id: str, channel: str, message_id: int | None = None) -> str:
        """A response_url like the ones Slack puts in commands and clicks, bound to this person."""
        key = f"R{next(self._ids)}"
        with self._lock:
            self._targets[key] = _ResponseTarget(user_id, channel, message_id)
        return f"{self.base}/respond/{key}"

    def seen_by(self, user_id: str) -> list[Shown]:
        """Messages this person can see, oldest first (ephemeral ones only they see, plus channel posts)."""
        with self._lock:
            return [m for m in self.shown if m.user_id in (None, user_id)]

    def message(self, message_id: int) -> Shown:
        with self._lock:
            return next(m for m in self.shown if m.id == message_id)

    def mark_seen(self) -> int:
        """A bookmark: `since(bookmark)` lists what arrived or changed after it."""
        with self._lock:
            return len(self.calls)

    def since(self, bookmark: int) -> list[Call]:
        with self._lock:
            return self.calls[bookmark:]

    def _record(self, call: Call) -> None:
        with self._arrived:
            self.calls.append(call)
            self._arrived.notify_all()

    # ---- the server ------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if parsed.path.startswith("/upload/"):  # files_upload_v2's step 2: the bytes, as sent
                    status, answer = api._receive_upload(parsed.path.rsplit("/", 1)[-1], raw)
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                args: dict[str, Any] = dict(parse_qsl(parsed.query))
                kind = self.headers.get("Content-Type") or ""
                if raw and "json" in kind:
                    args.update(json.loads(raw))
                elif raw:
                    args.update(dict(parse_qsl(raw.decode())))
                if parsed.path.startswith("/respond/"):
                    status, headers, body = api._respond(parsed.path.rsplit("/", 1)[-1], args)
                elif parsed.path.startswith("/api/"):
                    auth = self.headers.get("Authorization") or ""
                    token = auth.removeprefix("Bearer ").strip() or args.pop("token", "")
                    status, headers, body = api._api(parsed.path[len("/api/") :], args, token)
                else:
                    status, headers, body = 404, {}, {"ok": False, "error": "not_found"}
                how = api._losing(parsed.path[len("/api/") :]) if status == 200 else None
                if how == "drop":
                    self.close_connection = True
                    return  # the work is done; the client never hears of it
                if how == "late":
                    # Answer only once the client has hung up (its socket reads as closed): the
                    # answer arrives after its timeout, as Slack's does when it is slow.
                    select.select([self.connection], [], [], 120)
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _api(
        self, method: str, args: dict[str, Any], token: str
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            for key in ("blocks", "view", "attachments", "metadata"):
                if isinstance(args.get(key), str):
                    with contextlib.suppress(ValueError):
                        args[key] = json.loads(args[key])
            fault = next((f for f in self._faults if f.method == method and f.times > 0), None)
            if fault is not None:
                fault.times -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                body = {"ok": False, "error": fault.error}
                self._record(Call(method, args, fault.status, body))
                return fault.status, headers, body
            if self.token is not None and token != self.token:
                body = {"ok": False, "error": "invalid_auth"}
            else:
                handler = getattr(self, "_" + method.replace(".", "_"), None)
                if handler is None:
                    self.problems.append(f"called {method}, which the stand-in doesn't know")
                    body = {"ok": False, "error": "unknown_method"}
                else:
                    body = handler(args)
            self._record(Call(method, args, 200, body))
            return 200, {}, body

    # ---- contract checks ---------------------------------------------------------------------------
    def _check_message(
        self, method: str, args: dict[str, Any], limit: int = MESSAGE_BLOCK_LIMIT
    ) -> str | None:
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            self.problems.append(f"{method} sent metadata without event_type and event_payload")
            return "invalid_metadata"
        blocks = args.get("blocks") or []
        if blocks and not (args.get("text") or "").strip():
            self.problems.append(f"{method} sent blocks without a text fallback")
        if len(blocks) > limit:
            self.problems.append(f"{method} sent {len(blocks)} blocks (limit {limit})")
            return "invalid_blocks"
        if len(args.get("text") or "") > 40000:
            return "msg_too_long"
        self._check_mentions(method, args)
        return None

    def _check_mentions(self, method: str, payload: Any) -> None:
        found = SPECIAL_MENTION.search(json.dumps(payload, ensure_ascii=False))
        if found:
            self.problems.append(f"{method} would ping {found.group(0)}")

    # ---- methods --------------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        ws = self.workspace
        return {
            "ok": True,
            "url": f"https://{ws.team_name.lower().replace(' ', '-')}.slack.com/",
            "team": ws.team_name,
            "user": "baton",
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": "B0BATON",
            "is_enterprise_install": False,
        }

    def _resolve_channel(self, channel: str) -> str:
        return self.workspace.dm_channel(channel) if channel[:1] in ("U", "W") else channel

    def _audience(self, channel: str) -> str | None:
        """Who sees a message in `channel`: one person in a DM with Baton, everyone elsewhere."""
        if channel.startswith("D"):
            return "U" + channel[1:]
        return None

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message("chat.postMessage", args)
        if error:
            return {"ok": False, "error": error}
        channel = self._resolve_channel(str(args.get("channel") or ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        shown = self._show(
            self._audience(channel), channel, ts, args, ephemeral=False, source="chat.postMessage"
        )
        shown.metadata = args.get("metadata")
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message("chat.postEphemeral", args)
        if error:
            return {"ok": False, "error": error}
        channel = str(args.get("channel") or "")
        if channel in self.workspace.closed_channels:
            return {"ok": False, "error": "channel_not_found"}
        self._show(str(args.get("user")), channel, None, args, ephemeral=True, source="chat.postEphemeral")
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message("chat.update", args)
        if error:
            return {"ok": False, "error": error}
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        for message in self.shown:
            if message.channel == channel and message.ts == ts:
                message.text = args.get("text") or ""
                message.blocks = list(args.get("blocks") or [])
                message.version += 1
                return {"ok": True, "channel": channel, "ts": ts, "text": message.text}
        return {"ok": False, "error": "message_not_found"}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Messages posted in a channel, newest first; metadata only with `include_all_metadata`."""
        channel = self._resolve_channel(str(args.get("channel") or ""))
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 100)
        found = [
            m
            for m in reversed(self.shown)
            if m.channel == channel and m.ts is not None and not m.ephemeral and float(m.ts) > oldest
        ]
        messages = []
        for m in found[:limit]:
            message: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "blocks": m.blocks}
            if with_metadata and m.metadata is not None:
                message["metadata"] = m.metadata
            messages.append(message)
        return {"ok": True, "messages": messages, "has_more": len(found) > limit}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "").split(",")
        if len(users) != 1 or users[0] not in self.workspace.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.workspace.dm_channel(users[0])}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.workspace.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.to_slack(self.workspace.team_id)}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        everyone = sorted(self.workspace.users.values(), key=lambda u: u.id)
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 200)
        page = everyone[start : start + limit]
        cursor = str(start + limit) if start + limit < len(everyone) else ""
        return {
            "ok": True,
            "members": [u.to_slack(self.workspace.team_id) for u in page],
            "response_metadata": {"next_cursor": cursor},
        }

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").casefold()
        for user in self.workspace.users.values():
            if user.to_slack(self.workspace.team_id)["profile"]["email"].casefold() == email:
                return {"ok": True, "user": user.to_slack(self.workspace.team_id)}
        return {"ok": False, "error": "users_not_found"}

    # ---- files_upload_v2: an upload URL, the bytes POSTed to it, then the share ------------------------
    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = UploadedFile(file_id, filename, int(length), str(args.get("alt_txt") or ""))
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}

    def _receive_upload(self, file_id: str, data: bytes) -> tuple[int, bytes]:
        with self._lock:
            self._record(Call("upload", {"file_id": file_id, "bytes": len(data)}, 200, {"ok": True}))
            upload = self.files.get(file_id)
            if upload is None:
                return 404, b"unknown upload"
            upload.data = data
            return 200, f"OK - {len(data)}".encode()

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            wanted = json.loads(str(args.get("files") or "[]"))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        uploads = [self.files.get(str(item.get("id"))) for item in wanted]
        if not uploads or any(u is None or len(u.data) != u.length for u in uploads):
            return {"ok": False, "error": "file_not_found"}  # never uploaded, or not all of it
        channel = str(args.get("channel_id") or "")
        if channel and channel not in self.workspace.channels and channel[:1] != "D":
            return {"ok": False, "error": "channel_not_found"}
        shared = []
        for item, upload in zip(wanted, uploads, strict=True):
            assert upload is not None
            upload.title = str(item.get("title") or upload.filename)
            if upload.filename.endswith((".png", ".jpg", ".gif")) and not upload.alt_txt.strip():
                self.problems.append(f"image {upload.filename} shared without alt text")
            if channel:
                upload.channels.append(channel)
                if self.files_dir is not None:
                    upload.saved_to = self.files_dir / f"{upload.id}-{upload.filename}"
                    upload.saved_to.write_bytes(upload.data)
            shared.append(
                {"id": upload.id, "name": upload.filename, "title": upload.title, "alt_txt": upload.alt_txt}
            )
        if channel:
            self._show(
                self._audience(channel),
                channel,
                self._next_ts(),
                {"text": str(args.get("initial_comment") or "")},
                ephemeral=False,
                source="files.completeUploadExternal",
            ).files.extend(u.id for u in uploads if u is not None)
        return {"ok": True, "files": shared}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id") or "")
        if not trigger or trigger in self._used_triggers:
            self.problems.append("views.open with a missing or already used trigger_id")
            return {"ok": False, "error": "expired_trigger_id"}
        self._used_triggers.add(trigger)
        user_id = trigger.split(".")[0]
        return self._store_view(args, user_id=user_id, modal=True)

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        old = self.views[view_id]
        return self._store_view(args, user_id=old["user_id"], modal=old["type"] == "modal", view_id=view_id)

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if user_id not in self.workspace.users:
            return {"ok": False, "error": "user_not_found"}
        return self._store_view(args, user_id=user_id, modal=False, view_id=f"VHOME{user_id}")

    def _store_view(
        self, args: dict[str, Any], *, user_id: str, modal: bool, view_id: str | None = None
    ) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        blocks = view.get("blocks") or []
        if len(blocks) > VIEW_BLOCK_LIMIT:
            self.problems.append(f"a view with {len(blocks)} blocks (limit {VIEW_BLOCK_LIMIT})")
            return {"ok": False, "error": "invalid_arguments"}
        self._check_mentions("views", view)
        view_id = view_id or f"V{next(self._ids):08d}"
        stored = {**view, "id": view_id, "user_id": user_id, "team_id": self.workspace.team_id}
        stored.setdefault("type", "modal" if modal else "home")
        self.views[view_id] = stored
        if modal and view_id not in self.open_modals.setdefault(user_id, []):
            self.open_modals[user_id].append(view_id)
        return {"ok": True, "view": stored}

    def replace_view(self, view_id: str, view: dict[str, Any]) -> None:
        """A modal's content swapped in place (`response_action: update`): same id, still open."""
        with self._lock:
            old = self.views[view_id]
            self._check_mentions("views", view)
            self.views[view_id] = {
                **view,
                "id": view_id,
                "user_id": old["user_id"],
                "team_id": old["team_id"],
            }
            self.views[view_id].setdefault("type", "modal")

    def push_view(self, user_id: str, view: dict[str, Any]) -> None:
        """A new modal on top of the open one (`response_action: push`)."""
        with self._lock:
            self._store_view({"view": view}, user_id=user_id, modal=True)

    # ---- response_url ---------------------------------------------------------------------------------
    def _respond(self, key: str, args: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            fault = next((f for f in self._faults if f.method == "response_url" and f.times > 0), None)
            if fault is not None:  # `fail("response_url", status=500)`: Slack's side of it is down
                fault.times -= 1
                self._record(Call("response_url", args, fault.status, {"ok": False, "error": fault.error}))
                return fault.status, {}, {"ok": False, "error": fault.error}
            self._record(Call("response_url", args, 200, {"ok": True}))
            target = self._targets.get(key)
            if target is None:
                return 404, {}, {"ok": False, "error": "expired_url"}
            error = self._check_message("response_url", args)
            if error:
                return 400, {}, {"ok": False, "error": error}
            if args.get("delete_original") and target.message_id is not None:
                self.shown = [m for m in self.shown if m.id != target.message_id]
                return 200, {}, {"ok": True}
            if args.get("replace_original") and target.message_id is not None:
                message = self.message(target.message_id)
                message.text = args.get("text") or ""
                message.blocks = list(args.get("blocks") or [])
                message.version += 1
                return 200, {}, {"ok": True}
            in_channel = args.get("response_type") == "in_channel"
            self._show(
                None if in_channel else target.user_id,
                target.channel,
                self._next_ts() if in_channel else None,
                args,
                ephemeral=not in_channel,
                source="response_url",
            )
            return 200, {}, {"ok": True}

    def _show(
        self,
        user_id: str | None,
        channel: str,
        ts: str | None,
        args: dict[str, Any],
        *,
        ephemeral: bool,
        source: str,
    ) -> Shown:
        message = Shown(
            id=next(self._ids),
            user_id=user_id,
            channel=channel,
            ts=ts,
            text=str(args.get("text") or ""),
            blocks=list(args.get("blocks") or []),
            ephemeral=ephemeral,
            source=source,
        )
        self.shown.append(message)
        return message


def iter_elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every interactive element in `blocks`, with the block it sits in."""
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                yield block, element
        elif block.get("accessory"):
            yield block, block["accessory"]
